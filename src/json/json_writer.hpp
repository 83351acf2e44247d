#pragma once
// JSON text of an nlohmann::json value, byte for byte what value.dump() writes (no indent, UTF-8
// as it is, keys in the object's order), and with the same nlohmann::json::type_error for a
// string that is not valid UTF-8. Faster where messages spend their time: a string's plain text
// is copied in runs instead of one checked byte at a time.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ifmesh::detail::json {

// Appends value.dump() to `out`.
void append(std::string& out, const nlohmann::json& value);
// Appends nlohmann::json(text).dump() to `out`.
void appendString(std::string& out, std::string_view text);

inline std::string dump(const nlohmann::json& value) {
  std::string out;
  append(out, value);
  return out;
}

}  // namespace ifmesh::detail::json
