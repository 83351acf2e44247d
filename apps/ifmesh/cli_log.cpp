#include "cli_log.hpp"

#include <cstdio>
#include <map>
#include <mutex>
#include <string_view>

#include "ifmesh/log.hpp"

namespace ifmesh::cli {

namespace {

const char* name(LogLevel level) {
  switch (level) {
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info";
    case LogLevel::Warn:
      return "warn";
    case LogLevel::Error:
      return "error";
  }
  return "info";
}

LogLevel witnessLevel(const std::string& event) {
  static const std::map<std::string, LogLevel> levels = {
      {"ifmessage_sent", LogLevel::Debug},
      {"ifmessage_received", LogLevel::Debug},
      {"ifmessage_rejected", LogLevel::Warn},
      {"ifmessage_dropped", LogLevel::Warn},
      {"message_undeliverable", LogLevel::Warn},
      {"link_refused", LogLevel::Warn},
      {"peer_auth_failed", LogLevel::Warn},
      {"peer_key_rejected", LogLevel::Warn},
      {"forward_held", LogLevel::Warn},
      {"reconnection_attempt_failed", LogLevel::Warn},
      {"peer_permanently_unreachable", LogLevel::Error},
      {"witness_record_failed", LogLevel::Error},
  };
  auto it = levels.find(event);
  return it == levels.end() ? LogLevel::Info : it->second;
}

ifmesh::LogLevel fromCli(LogLevel level) {
  switch (level) {
    case LogLevel::Debug:
      return ifmesh::LogLevel::Debug;
    case LogLevel::Info:
      return ifmesh::LogLevel::Info;
    case LogLevel::Warn:
      return ifmesh::LogLevel::Warning;
    case LogLevel::Error:
      return ifmesh::LogLevel::Error;
  }
  return ifmesh::LogLevel::Info;
}

LogLevel toCli(ifmesh::LogLevel level) {
  switch (level) {
    case ifmesh::LogLevel::Debug:
      return LogLevel::Debug;
    case ifmesh::LogLevel::Info:
      return LogLevel::Info;
    case ifmesh::LogLevel::Warning:
      return LogLevel::Warn;
    case ifmesh::LogLevel::Error:
      return LogLevel::Error;
  }
  return LogLevel::Error;
}

// One line on stdout. Free of any CliLog, so a library message that arrives while a CliLog is
// being destroyed still has everything it uses.
void writeLine(bool json, LogLevel level, const std::string& event, const std::string& text,
               const nlohmann::json& fields) {
  std::string ts = isoTimestampNow();
  std::string line;
  if (json) {
    nlohmann::json j = {{"ts", ts}, {"level", name(level)}, {"event", event}, {"msg", text}};
    for (const auto& [k, v] : fields.items()) j[k] = v;
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    // Peer-supplied text (reasons, ids) must not start a line of its own or steer a terminal.
    std::string shown = text;
    for (char& c : shown)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    line = ts + " " + name(level) +
           (level == LogLevel::Info || level == LogLevel::Warn ? "  " : " ") + shown;
  }
  static std::mutex* stdoutMutex = new std::mutex;  // also for lines written during exit
  std::lock_guard lock(*stdoutMutex);
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace

void addLogOptions(CLI::App* cmd, LogOptions& options) {
  cmd->add_option("--log-level", options.level, "Least severe level printed")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  cmd->add_option("--log-format", options.format, "text lines or JSON lines")
      ->check(CLI::IsMember({"text", "json"}));
}

CliLog::CliLog(const LogOptions& options) : json_(options.format == "json") {
  for (LogLevel l : {LogLevel::Debug, LogLevel::Info, LogLevel::Warn, LogLevel::Error})
    if (options.level == name(l)) min_ = l;
  ifmesh::setLogHandler(fromCli(min_), [json = json_](ifmesh::LogLevel level,
                                                      std::string_view component,
                                                      std::string_view message) {
    std::string c(component);
    writeLine(json, toCli(level), "library", c + ": " + std::string(message), {{"component", c}});
  });
}

CliLog::~CliLog() {
  ifmesh::setLogHandler(ifmesh::LogLevel::Warning, nullptr);
}

void CliLog::write(LogLevel level, const std::string& event, const std::string& text,
                   const nlohmann::json& fields) {
  if (enabled(level)) writeLine(json_, level, event, text, fields);
}

void CliLog::witnessEvent(const WitnessEvent& e) {
  LogLevel level = witnessLevel(e.event);
  if (!enabled(level)) return;
  std::string text = e.event;
  if (!e.peerId.empty()) text += " peer=" + e.peerId;
  for (const auto& [k, v] : e.metadata.items())
    text += " " + k + "=" +
            (v.is_string() ? v.get<std::string>()
                           : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  nlohmann::json fields = e.metadata;
  if (!e.peerId.empty()) fields["peer"] = e.peerId;
  write(level, e.event, text, fields);
}

}  // namespace ifmesh::cli
