#pragma once
// ICE server URLs (RFC 7064 stun:, RFC 7065 turn:) as given in RtcConfiguration.
#include <cstdint>
#include <string>
#include <string_view>

namespace ifmesh::rtc {

struct IceServerUrl {
  enum class Scheme { Stun, Turn };
  enum class Transport { Udp, Tcp };
  Scheme scheme = Scheme::Stun;
  Transport transport = Transport::Udp;
  std::string host;
  std::uint16_t port = 3478;
};

// Throws ifmesh::Error(InvalidArgument) for anything else (turns:/stuns: are not supported).
IceServerUrl parseIceServerUrl(std::string_view url);
// Numeric IP for a host name or literal (blocking lookup; configuration time only).
std::string resolveHost(const std::string& host);

}  // namespace ifmesh::rtc
