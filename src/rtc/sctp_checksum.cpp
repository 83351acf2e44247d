#include "rtc/sctp_checksum.hpp"

#include <usrsctp.h>

#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace ifmesh::rtc {

namespace {

constexpr std::size_t kCommonHeaderBytes = 12;
constexpr std::size_t kChecksumOffset = 8;

#if defined(__x86_64__)
// CRC32c with the crc32 instruction, eight bytes at a time: the register starts at all ones and
// ends inverted (RFC 9260), and x86 stores it least significant byte first, as the
// field wants it.
__attribute__((target("sse4.2"))) std::uint32_t crc32cSse42(const unsigned char* p, std::size_t n) {
  std::uint64_t crc = 0xffffffffu;
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, sizeof word);
    crc = _mm_crc32_u64(crc, word);
  }
  auto crc32 = static_cast<std::uint32_t>(crc);
  for (; n > 0; ++p, --n) crc32 = _mm_crc32_u8(crc32, *p);
  return ~crc32;
}

bool haveSse42() {
  static const bool have = __builtin_cpu_supports("sse4.2");
  return have;
}
#endif

}  // namespace

std::uint32_t sctpChecksum(const void* packet, std::size_t length) {
#if defined(__x86_64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (haveSse42()) return crc32cSse42(static_cast<const unsigned char*>(packet), length);
#endif
  return usrsctp_crc32c(const_cast<void*>(packet), length);
}

void fillSctpChecksum(void* packet, std::size_t length) {
  if (length < kCommonHeaderBytes) return;
  const std::uint32_t sum = sctpChecksum(packet, length);
  std::memcpy(static_cast<unsigned char*>(packet) + kChecksumOffset, &sum, sizeof sum);
}

}  // namespace ifmesh::rtc
