#include "journal.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "ifmesh/error.hpp"

namespace ifmesh::python {

namespace {

int priorityNamed(const std::string& name) {
  for (int p = 0; p < kMessagePriorities; ++p)
    if (name == toString(static_cast<MessagePriority>(p))) return p;
  return static_cast<int>(MessagePriority::Normal);
}

std::uint64_t unsignedField(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

}  // namespace

Journal::Journal(const std::string& path, bool skipJournaled)
    : file_(nullptr, &std::fclose), skipJournaled_(skipJournaled) {
  if (skipJournaled_) {
    std::ifstream in(path, std::ios::binary);
    std::string line;
    std::uint64_t whole = 0;  // bytes in complete lines
    while (std::getline(in, line)) {
      if (in.eof()) break;  // no newline: a write the kill cut short
      whole += line.size() + 1;
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) continue;
      auto source = j.find("source");
      auto priority = j.find("priority");
      Lane lane{source != j.end() && source->is_string() ? source->get<std::string>() : "",
                unsignedField(j, "incarnation"),
                priority != j.end() && priority->is_string()
                    ? priorityNamed(priority->get<std::string>())
                    : static_cast<int>(MessagePriority::Normal)};
      auto& last = last_[lane];
      last = std::max(last, unsignedField(j, "sequence_num"));
    }
    in.close();
    std::error_code ec;
    if (std::filesystem::exists(path, ec) && std::filesystem::file_size(path, ec) != whole)
      std::filesystem::resize_file(path, whole, ec);
    if (ec) throw Error(Errc::Io, "journal '" + path + "': cannot cut its torn last line");
  }
  file_.reset(std::fopen(path.c_str(), "a"));
  if (!file_) throw Error(Errc::Io, "journal '" + path + "' cannot be opened for append");
}

bool Journal::write(const IFMessage& m) {
  if (skipJournaled_) {
    auto& last = last_[Lane{m.source, m.incarnation, static_cast<int>(m.priority)}];
    if (m.sequence <= last) return false;
    last = m.sequence;
  }
  std::string line = serialize(m) + "\n";
  std::fputs(line.c_str(), file_.get());
  std::fflush(file_.get());
  return true;
}

}  // namespace ifmesh::python
