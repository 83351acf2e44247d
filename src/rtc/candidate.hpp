#pragma once
// ICE candidate attribute lines (RFC 8839 §5.1), as trickled between peers.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ifmesh::rtc {

struct IceCandidate {
  std::string foundation;
  int component = 1;
  std::string transport;  // lower case: udp or tcp
  std::uint32_t priority = 0;
  std::string address;
  std::uint16_t port = 0;
  std::string type;  // host, srflx, prflx, relay
  std::optional<std::string> relatedAddress;
  std::optional<std::uint16_t> relatedPort;
  std::optional<std::string> tcpType;
  std::vector<std::pair<std::string, std::string>> extensions;  // generation 0, ufrag x, ...
};

// Accepts "candidate:..." or "a=candidate:...", surrounding whitespace and CRLF.
// Throws ifmesh::Error(MalformedCandidate) naming what is wrong.
IceCandidate parseCandidate(std::string_view line);
std::string serializeCandidate(const IceCandidate& candidate);  // "candidate:..."
bool isMdnsHostname(std::string_view address);                  // "<uuid>.local"

}  // namespace ifmesh::rtc
