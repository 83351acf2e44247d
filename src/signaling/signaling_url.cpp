#include "signaling/signaling_url.hpp"

#include <charconv>

#include "ifmesh/error.hpp"

namespace ifmesh::signaling {

SignalingUrl parseSignalingUrl(std::string_view url) {
  SignalingUrl u;
  u.tls = url.starts_with("wss://");
  if (!u.tls && !url.starts_with("ws://"))
    throw Error(Errc::InvalidArgument, "signaling URL must be ws://HOST:PORT or wss://HOST:PORT");
  std::string_view rest = url.substr(u.tls ? 6 : 5);
  auto slash = rest.find('/');
  if (slash != std::string_view::npos) u.path = std::string(rest.substr(slash));
  std::string_view authority = rest.substr(0, slash);
  // The port's colon is the last one outside an IPv6 address's brackets.
  std::size_t colon = authority.rfind(':');
  std::size_t bracket = authority.rfind(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    std::string_view port = authority.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
      throw Error(Errc::InvalidArgument, "the port of a signaling URL must be 1 to 65535");
    u.port = std::string(port);
    authority = authority.substr(0, colon);
  } else {
    u.port = u.tls ? "443" : "80";
  }
  if (authority.size() > 2 && authority.front() == '[' && authority.back() == ']')
    authority = authority.substr(1, authority.size() - 2);
  if (authority.empty() || authority.find_first_of(" @?#[]") != std::string_view::npos)
    throw Error(Errc::InvalidArgument, "signaling URL must be ws://HOST:PORT or wss://HOST:PORT");
  u.host = std::string(authority);
  return u;
}

}  // namespace ifmesh::signaling
