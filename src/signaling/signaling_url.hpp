#pragma once
// Signaling server URLs as ClientConfig::url takes them: ws://HOST[:PORT][/PATH] or
// wss://HOST[:PORT][/PATH], HOST a name, an IPv4 address or a bracketed IPv6 address.
#include <string>
#include <string_view>

namespace ifmesh::signaling {

struct SignalingUrl {
  std::string host;  // without brackets
  std::string port;  // decimal 1-65535; 80 (ws) or 443 (wss) when the URL gives none
  std::string path = "/";
  bool tls = false;
};

// Throws ifmesh::Error(InvalidArgument) saying what is wrong with anything else.
SignalingUrl parseSignalingUrl(std::string_view url);

}  // namespace ifmesh::signaling
