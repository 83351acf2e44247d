#pragma once
// Lower-case hex of raw bytes, for ids, digests and MACs (witness, signaling, mesh).
#include <cstddef>
#include <string>

namespace ifmesh::detail {

inline void appendHex(std::string& out, const unsigned char* bytes, std::size_t length) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < length; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0x0f];
  }
}

}  // namespace ifmesh::detail
