// The words an aborted association is closed with, from the ABORT chunk usrsctp reports.
#include "rtc/sctp_abort_reason.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ifmesh::rtc {
namespace {

std::vector<std::byte> abortChunk(std::uint16_t code, const std::string& text) {
  const auto causeLength = static_cast<std::uint16_t>(4 + text.size());
  const auto chunkLength = static_cast<std::uint16_t>(4 + causeLength);
  std::vector<std::byte> c{std::byte{6},
                           std::byte{0},
                           std::byte(chunkLength >> 8),
                           std::byte(chunkLength & 0xff),
                           std::byte(code >> 8),
                           std::byte(code & 0xff),
                           std::byte(causeLength >> 8),
                           std::byte(causeLength & 0xff)};
  for (char ch : text) c.push_back(static_cast<std::byte>(ch));
  return c;
}

TEST(SctpAbortReason, NamesTheCauseAndItsText) {
  auto c = abortChunk(13, "Association error counter exceeded");
  EXPECT_EQ(describeSctpAbort(c.data(), c.size()), "cause 13: Association error counter exceeded");
}

TEST(SctpAbortReason, ACauseWithoutTextIsItsCode) {
  auto c = abortChunk(12, "");
  EXPECT_EQ(describeSctpAbort(c.data(), c.size()), "cause 12");
}

TEST(SctpAbortReason, NoCauseOrNoAbortIsNothing) {
  std::vector<std::byte> bare{std::byte{6}, std::byte{0}, std::byte{0}, std::byte{4}};
  EXPECT_EQ(describeSctpAbort(bare.data(), bare.size()), "");
  auto notAbort = abortChunk(13, "x");
  notAbort[0] = std::byte{1};
  EXPECT_EQ(describeSctpAbort(notAbort.data(), notAbort.size()), "");
  EXPECT_EQ(describeSctpAbort(nullptr, 0), "");
}

TEST(SctpAbortReason, HostileLengthsAndBytesStayBounded) {
  auto c = abortChunk(13, std::string(1000, 'a'));
  c[2] = std::byte{0xff};  // chunk and cause lengths larger than the bytes that arrived
  c[3] = std::byte{0xff};
  c[6] = std::byte{0xff};
  c[7] = std::byte{0xff};
  c[8] = std::byte{'\n'};
  c[9] = std::byte{0x80};
  auto text = describeSctpAbort(c.data(), c.size());
  EXPECT_EQ(text.rfind("cause 13: ??aaa", 0), 0u) << text;
  EXPECT_LE(text.size(), 200u);
  EXPECT_EQ(describeSctpAbort(c.data(), 7), "");  // cut inside the cause header
}

}  // namespace
}  // namespace ifmesh::rtc
