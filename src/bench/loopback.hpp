#pragma once
// 127.0.0.1:port, the only address the benchmark's own sockets use (the network rule).
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>

namespace ifmesh::bench {

inline sockaddr_in loopbackAddress(std::uint16_t port = 0) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

}  // namespace ifmesh::bench
