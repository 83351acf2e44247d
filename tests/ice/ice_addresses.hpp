#pragma once
// Transport addresses for the ICE tests.
#include <cstdint>

#include "ice/stun_message.hpp"

namespace ifmesh::ice::test {

inline StunAddress ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                        std::uint16_t port) {
  StunAddress address;
  address.ip = {a, b, c, d};
  address.port = port;
  return address;
}

// ::1 and a port.
inline StunAddress ipv6Loopback(std::uint16_t port) {
  StunAddress address;
  address.ipv6 = true;
  address.ip[15] = 1;
  address.port = port;
  return address;
}

}  // namespace ifmesh::ice::test
