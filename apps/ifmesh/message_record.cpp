#include "message_record.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace ifmesh::cli {

namespace {

MessagePriority priorityNamed(const std::string& name) {
  for (int p = 0; p < kMessagePriorities; ++p)
    if (name == toString(static_cast<MessagePriority>(p))) return static_cast<MessagePriority>(p);
  return MessagePriority::Normal;
}

}  // namespace

MessageRecord::MessageRecord(const std::string& path, bool skipRecorded)
    : file_(nullptr, &std::fclose), skipRecorded_(skipRecorded) {
  if (skipRecorded_) {
    std::ifstream in(path, std::ios::binary);
    std::string line;
    std::uint64_t whole = 0;  // bytes in complete lines
    while (std::getline(in, line)) {
      if (in.eof()) break;  // no newline: a write the kill cut short
      whole += line.size() + 1;
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) continue;
      auto seq = j.value("seq", std::uint64_t{0});
      Lane lane{j.value("source", ""), j.value("incarnation", std::uint64_t{0}),
                static_cast<int>(priorityNamed(j.value("priority", "normal")))};
      auto& last = last_[lane];
      last = std::max(last, seq);
    }
    in.close();
    std::error_code ec;
    if (std::filesystem::exists(path, ec) && std::filesystem::file_size(path, ec) != whole)
      std::filesystem::resize_file(path, whole, ec);
    if (ec) throw std::runtime_error("--record " + path + ": cannot cut its torn last line");
  }
  file_.reset(std::fopen(path.c_str(), "a"));
  if (!file_) throw std::runtime_error("--record " + path + ": cannot be opened for append");
}

bool MessageRecord::write(const IFMessage& m) {
  if (skipRecorded_) {
    auto& last = last_[Lane{m.source, m.incarnation, static_cast<int>(m.priority)}];
    if (m.sequence <= last) return false;
    last = m.sequence;
  }
  std::string line = nlohmann::json{{"source", m.source},
                                    {"seq", m.sequence},
                                    {"id", m.id},
                                    {"priority", toString(m.priority)},
                                    {"incarnation", m.incarnation}}
                         .dump() +
                     "\n";
  std::fputs(line.c_str(), file_.get());
  std::fflush(file_.get());
  return true;
}

}  // namespace ifmesh::cli
