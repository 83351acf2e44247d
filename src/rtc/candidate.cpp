#include "rtc/candidate.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "ifmesh/error.hpp"

namespace ifmesh::rtc {

namespace {

constexpr std::size_t kMaxLineLength = 1024;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    std::size_t start = i;
    while (i < s.size() && s[i] != ' ') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

template <typename T>
T number(std::string_view text, T max, const char* what) {
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() ||
      value > static_cast<std::uint64_t>(max))
    throw Error(Errc::MalformedCandidate,
                std::string("invalid ") + what + " '" + std::string(text) + "'");
  return static_cast<T>(value);
}

bool isToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '-' ||
           c == '_' || c == '.' || c == ':' || c == '=';
  });
}

}  // namespace

IceCandidate parseCandidate(std::string_view line) {
  if (line.size() > kMaxLineLength) throw Error(Errc::MalformedCandidate, "line too long");
  line = trim(line);
  if (line.starts_with("a=")) line.remove_prefix(2);
  if (!line.starts_with("candidate:"))
    throw Error(Errc::MalformedCandidate, "missing 'candidate:' prefix");
  line.remove_prefix(10);
  auto f = split(line);
  if (f.size() < 8) throw Error(Errc::MalformedCandidate, "fewer than 8 fields");
  IceCandidate c;
  if (!isToken(f[0]) || f[0].size() > 32)
    throw Error(Errc::MalformedCandidate, "invalid foundation");
  c.foundation = f[0];
  c.component = number<int>(f[1], 256, "component");
  if (c.component < 1) throw Error(Errc::MalformedCandidate, "component must be 1..256");
  c.transport = f[2];
  std::transform(c.transport.begin(), c.transport.end(), c.transport.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (c.transport != "udp" && c.transport != "tcp")
    throw Error(Errc::MalformedCandidate, "transport must be udp or tcp");
  c.priority = number<std::uint32_t>(f[3], 0xffffffffu, "priority");
  if (!isToken(f[4])) throw Error(Errc::MalformedCandidate, "invalid address");
  c.address = f[4];
  c.port = number<std::uint16_t>(f[5], 65535, "port");
  if (f[6] != "typ") throw Error(Errc::MalformedCandidate, "expected 'typ'");
  c.type = f[7];
  if (c.type != "host" && c.type != "srflx" && c.type != "prflx" && c.type != "relay")
    throw Error(Errc::MalformedCandidate, "unknown candidate type '" + c.type + "'");
  std::size_t i = 8;
  if ((f.size() - i) % 2 != 0) throw Error(Errc::MalformedCandidate, "odd attribute list");
  for (; i + 1 < f.size(); i += 2) {
    std::string_view key = f[i], value = f[i + 1];
    if (key == "raddr") {
      if (!isToken(value)) throw Error(Errc::MalformedCandidate, "invalid raddr");
      c.relatedAddress = std::string(value);
    } else if (key == "rport") {
      c.relatedPort = number<std::uint16_t>(value, 65535, "rport");
    } else if (key == "tcptype") {
      // active, passive or so (RFC 6544); any value must survive being written out again.
      if (!isToken(value)) throw Error(Errc::MalformedCandidate, "invalid tcptype");
      c.tcpType = std::string(value);
    } else {
      if (!isToken(key) || !isToken(value))
        throw Error(Errc::MalformedCandidate, "invalid extension attribute");
      c.extensions.emplace_back(key, value);
    }
  }
  return c;
}

std::string serializeCandidate(const IceCandidate& c) {
  std::string out = "candidate:" + c.foundation + " " + std::to_string(c.component) + " " +
                    c.transport + " " + std::to_string(c.priority) + " " + c.address + " " +
                    std::to_string(c.port) + " typ " + c.type;
  if (c.relatedAddress) out += " raddr " + *c.relatedAddress;
  if (c.relatedPort) out += " rport " + std::to_string(*c.relatedPort);
  if (c.tcpType) out += " tcptype " + *c.tcpType;
  for (const auto& [k, v] : c.extensions) out += " " + k + " " + v;
  return out;
}

bool isMdnsHostname(std::string_view address) {
  return address.size() > 6 && address.ends_with(".local");
}

}  // namespace ifmesh::rtc
