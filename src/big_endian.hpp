#pragma once
// Network byte order into and out of byte buffers (DCEP and STUN messages, DTLS records, STUN in
// the benchmark's TURN client): one definition for every layer, for std::byte and unsigned char
// alike.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ifmesh::detail {

template <typename Byte>
void put16(std::vector<Byte>& out, std::uint16_t v) {
  out.push_back(static_cast<Byte>(v >> 8));
  out.push_back(static_cast<Byte>(v & 0xff));
}

template <typename Byte>
void put32(std::vector<Byte>& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v));
}

// Writes 2 / 8 bytes at p, in place (a length patched in, a record header); the caller has
// made room.
template <typename Byte>
void store16(Byte* p, std::uint16_t v) {
  p[0] = static_cast<Byte>(v >> 8);
  p[1] = static_cast<Byte>(v & 0xff);
}

template <typename Byte>
void store64(Byte* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<Byte>(v & 0xff);
}

// Reads 2 / 4 bytes at p; the caller has checked they are there.
template <typename Byte>
std::uint16_t get16(const Byte* p) {
  return static_cast<std::uint16_t>(static_cast<unsigned>(p[0]) << 8 | static_cast<unsigned>(p[1]));
}

template <typename Byte>
std::uint32_t get32(const Byte* p) {
  return static_cast<std::uint32_t>(get16(p)) << 16 | get16(p + 2);
}

}  // namespace ifmesh::detail
