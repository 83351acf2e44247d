// ifmesh's SCTP checksum gives what usrsctp's own gives, for every length and alignment, and
// fills the common header's field as an SCTP receiver checks it.
#include <gtest/gtest.h>
#include <usrsctp.h>

#include <cstring>
#include <random>
#include <vector>

#include "rtc/sctp_checksum.hpp"

namespace ifmesh::rtc {
namespace {

TEST(SctpChecksum, MatchesUsrsctpForEveryLengthAndAlignment) {
  std::mt19937 rng(7);
  std::vector<unsigned char> bytes(2048 + 8);
  for (auto& b : bytes) b = static_cast<unsigned char>(rng());
  for (std::size_t offset = 0; offset < 8; ++offset)
    for (std::size_t length : {0u, 1u, 7u, 8u, 9u, 12u, 15u, 16u, 17u, 63u, 100u, 1200u, 2048u})
      EXPECT_EQ(sctpChecksum(bytes.data() + offset, length),
                usrsctp_crc32c(bytes.data() + offset, length))
          << "offset " << offset << " length " << length;
}

// RFC 3720 B.4 gives CRC32c test patterns; 32 bytes of zeros checksum to aa 36 91 8a (the
// register's bytes, least significant first, as SCTP's field holds them).
TEST(SctpChecksum, KnownPattern) {
  std::vector<unsigned char> zeros(32, 0);
  const std::uint32_t sum = sctpChecksum(zeros.data(), zeros.size());
  unsigned char field[4];
  std::memcpy(field, &sum, sizeof field);
  EXPECT_EQ(field[0], 0xaa);
  EXPECT_EQ(field[1], 0x36);
  EXPECT_EQ(field[2], 0x91);
  EXPECT_EQ(field[3], 0x8a);
}

TEST(SctpChecksum, FillsTheCommonHeadersFieldAndLeavesShortBuffersAlone) {
  std::vector<unsigned char> packet(60);
  for (std::size_t i = 0; i < packet.size(); ++i) packet[i] = static_cast<unsigned char>(i * 37);
  std::memset(packet.data() + 8, 0, 4);
  const std::uint32_t expected = usrsctp_crc32c(packet.data(), packet.size());
  fillSctpChecksum(packet.data(), packet.size());
  std::uint32_t field;
  std::memcpy(&field, packet.data() + 8, sizeof field);
  EXPECT_EQ(field, expected);

  std::vector<unsigned char> shortBuffer(11, 0x5a);
  const auto before = shortBuffer;
  fillSctpChecksum(shortBuffer.data(), shortBuffer.size());
  EXPECT_EQ(shortBuffer, before);
}

}  // namespace
}  // namespace ifmesh::rtc
