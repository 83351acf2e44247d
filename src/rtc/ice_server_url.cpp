#include "rtc/ice_server_url.hpp"

#include <arpa/inet.h>
#include <netdb.h>

#include <charconv>
#include <memory>

#include "ifmesh/error.hpp"

namespace ifmesh::rtc {

IceServerUrl parseIceServerUrl(std::string_view url) {
  auto bad = [&](const char* why) {
    return Error(Errc::InvalidArgument, "ICE server URL '" + std::string(url) + "': " + why);
  };
  IceServerUrl out;
  std::string_view rest = url;
  if (rest.starts_with("stun:")) {
    out.scheme = IceServerUrl::Scheme::Stun;
    rest.remove_prefix(5);
  } else if (rest.starts_with("turn:")) {
    out.scheme = IceServerUrl::Scheme::Turn;
    rest.remove_prefix(5);
  } else {
    throw bad("scheme must be stun: or turn: (stuns:/turns: are not supported)");
  }
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    std::string_view query = rest.substr(q + 1);
    rest = rest.substr(0, q);
    if (query == "transport=udp")
      out.transport = IceServerUrl::Transport::Udp;
    else if (query == "transport=tcp")
      out.transport = IceServerUrl::Transport::Tcp;
    else
      throw bad("unknown query (expected transport=udp or transport=tcp)");
  }
  std::string_view portText;
  if (rest.starts_with('[')) {
    auto close = rest.find(']');
    if (close == std::string_view::npos) throw bad("unterminated IPv6 literal");
    out.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (rest.starts_with(':'))
      portText = rest.substr(1);
    else if (!rest.empty())
      throw bad("junk after IPv6 literal");
  } else {
    auto colon = rest.rfind(':');
    out.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) portText = rest.substr(colon + 1);
  }
  if (out.host.empty()) throw bad("missing host");
  if (!portText.empty()) {
    unsigned port = 0;
    auto [ptr, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
    if (ec != std::errc() || ptr != portText.data() + portText.size() || port == 0 || port > 65535)
      throw bad("invalid port");
    out.port = static_cast<std::uint16_t>(port);
  }
  return out;
}

std::string resolveHost(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* result = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &result) != 0 || !result)
    throw Error(Errc::InvalidArgument, "cannot resolve ICE server host: " + host);
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(result, &freeaddrinfo);
  char buf[INET6_ADDRSTRLEN] = {};
  const void* addr =
      result->ai_family == AF_INET6
          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(result->ai_addr)->sin6_addr)
          : &reinterpret_cast<sockaddr_in*>(result->ai_addr)->sin_addr;
  inet_ntop(result->ai_family, addr, buf, sizeof buf);
  return buf;
}

}  // namespace ifmesh::rtc
