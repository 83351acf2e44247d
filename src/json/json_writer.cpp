#include "json/json_writer.hpp"

#include <charconv>

#include "json/json_scan.hpp"

namespace ifmesh::detail::json {

namespace {

constexpr char kHex[] = "0123456789abcdef";

// One byte that is not plain text: its escape, or (UTF-8) its whole sequence. Returns how many
// bytes it took, 0 for bytes that are not valid UTF-8.
std::size_t appendSpecial(std::string& out, const char* p, std::size_t n) {
  const auto c = static_cast<unsigned char>(*p);
  switch (c) {
    case '"':
      out += "\\\"";
      return 1;
    case '\\':
      out += "\\\\";
      return 1;
    case '\b':
      out += "\\b";
      return 1;
    case '\f':
      out += "\\f";
      return 1;
    case '\n':
      out += "\\n";
      return 1;
    case '\r':
      out += "\\r";
      return 1;
    case '\t':
      out += "\\t";
      return 1;
    default:
      break;
  }
  if (c < 0x20) {
    const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
    out.append(escape, sizeof escape);
    return 1;
  }
  std::size_t len = utf8Sequence(p, n);
  out.append(p, len);
  return len;
}

}  // namespace

void appendString(std::string& out, std::string_view text) {
  const std::size_t start = out.size();
  out += '"';
  const char* p = text.data();
  std::size_t n = text.size();
  while (n > 0) {
    std::size_t run = plainRun(p, n);
    out.append(p, run);
    p += run;
    n -= run;
    if (n == 0) break;
    std::size_t took = appendSpecial(out, p, n);
    if (took == 0) {
      // Not UTF-8: nlohmann's own serializer throws its exception (type_error 316) for it.
      out.resize(start);
      out += nlohmann::json(std::string(text)).dump();
      return;
    }
    p += took;
    n -= took;
  }
  out += '"';
}

void append(std::string& out, const nlohmann::json& value) {
  using Type = nlohmann::json::value_t;
  switch (value.type()) {
    case Type::object: {
      const auto& object = value.get_ref<const nlohmann::json::object_t&>();
      out += '{';
      bool first = true;
      for (const auto& [key, member] : object) {
        if (!first) out += ',';
        first = false;
        appendString(out, key);
        out += ':';
        append(out, member);
      }
      out += '}';
      return;
    }
    case Type::array: {
      const auto& array = value.get_ref<const nlohmann::json::array_t&>();
      out += '[';
      for (std::size_t i = 0; i < array.size(); ++i) {
        if (i) out += ',';
        append(out, array[i]);
      }
      out += ']';
      return;
    }
    case Type::string:
      appendString(out, value.get_ref<const std::string&>());
      return;
    case Type::boolean:
      out += value.get<bool>() ? "true" : "false";
      return;
    case Type::null:
      out += "null";
      return;
    case Type::number_integer:
    case Type::number_unsigned: {
      char digits[24];
      auto end = value.is_number_unsigned()
                     ? std::to_chars(digits, digits + sizeof digits, value.get<std::uint64_t>()).ptr
                     : std::to_chars(digits, digits + sizeof digits, value.get<std::int64_t>()).ptr;
      out.append(digits, end);
      return;
    }
    default:  // floating point (nlohmann's own shortest form), binary, discarded
      out += value.dump();
      return;
  }
}

}  // namespace ifmesh::detail::json
