#pragma once
// What `ifmesh agent` and `ifmesh signal` say while they run: one line per event on stdout with a
// UTC timestamp and a level, as text ("2026-12-05T06:20:01.123Z info  registered as bob") or as
// JSON lines (--log-format json: {"ts", "level", "event", "msg", ...fields}). Thread-safe; every
// line is flushed, so a pipe reader sees it at once. While a CliLog lives, the library's own
// diagnostics (ifmesh::setLogHandler) are lines of it too: event "library", the component in
// the text and in the field "component".
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "ifmesh/witness.hpp"

namespace ifmesh::cli {

enum class LogLevel { Debug, Info, Warn, Error };

struct LogOptions {
  std::string level = "info";
  std::string format = "text";
};
void addLogOptions(CLI::App* cmd, LogOptions& options);

class CliLog {
 public:
  explicit CliLog(const LogOptions& options);
  ~CliLog();  // the library's diagnostics go to its default handler again
  CliLog(const CliLog&) = delete;
  CliLog& operator=(const CliLog&) = delete;
  bool enabled(LogLevel level) const { return level >= min_; }
  // `event`: a short machine name; `text`: the human line; `fields`: the details (JSON format).
  void write(LogLevel level, const std::string& event, const std::string& text,
             const nlohmann::json& fields = nlohmann::json::object());
  // An agent's witness event as a log line: link and healing events at info, refusals and
  // failures at warn or error, per-message events at debug.
  void witnessEvent(const WitnessEvent& event);

 private:
  LogLevel min_ = LogLevel::Info;
  bool json_ = false;
};

}  // namespace ifmesh::cli
