#include "store/message_journal.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "ifmesh/error.hpp"

namespace ifmesh::detail::store {

namespace {

std::uint64_t unsignedField(const nlohmann::json& j, const std::string& key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

std::string stringField(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

MessageJournal::MessageJournal(const std::string& path, bool skipJournaled,
                               const std::string& sequenceKey)
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
      auto priority = priorityFromString(stringField(j, "priority"));
      Lane lane{stringField(j, "source"), unsignedField(j, "incarnation"),
                static_cast<int>(priority.value_or(MessagePriority::Normal))};
      auto& last = last_[lane];
      last = std::max(last, unsignedField(j, sequenceKey));
    }
    in.close();
    std::error_code ec;
    if (std::filesystem::exists(path, ec) && std::filesystem::file_size(path, ec) != whole)
      std::filesystem::resize_file(path, whole, ec);
    if (ec) throw Error(Errc::Io, "'" + path + "': cannot cut its torn last line");
  }
  file_.reset(std::fopen(path.c_str(), "a"));
  if (!file_) throw Error(Errc::Io, "'" + path + "' cannot be opened for append");
}

bool MessageJournal::write(const IFMessage& m, std::string_view line) {
  if (skipJournaled_) {
    auto& last = last_[Lane{m.source, m.incarnation, static_cast<int>(m.priority)}];
    if (m.sequence <= last) return false;
    last = m.sequence;
  }
  std::fwrite(line.data(), 1, line.size(), file_.get());
  std::fputc('\n', file_.get());
  std::fflush(file_.get());
  return true;
}

}  // namespace ifmesh::detail::store
