#include "rtc/sctp_abort_reason.hpp"

#include <algorithm>
#include <cstdint>

#include "big_endian.hpp"

namespace ifmesh::rtc {

namespace {
constexpr std::uint8_t kAbortChunk = 6;
constexpr std::size_t kChunkHeader = 4;
constexpr std::size_t kCauseHeader = 4;
constexpr std::size_t kMaxText = 160;
}  // namespace

std::string describeSctpAbort(const std::byte* chunk, std::size_t length) {
  if (length < kChunkHeader + kCauseHeader ||
      std::to_integer<std::uint8_t>(chunk[0]) != kAbortChunk)
    return {};
  const std::size_t chunkLength = std::min<std::size_t>(detail::get16(chunk + 2), length);
  if (chunkLength < kChunkHeader + kCauseHeader) return {};
  const std::byte* cause = chunk + kChunkHeader;
  const std::uint16_t code = detail::get16(cause);
  const std::size_t causeLength =
      std::min<std::size_t>(detail::get16(cause + 2), chunkLength - kChunkHeader);
  std::string out = "cause " + std::to_string(code);
  if (causeLength <= kCauseHeader) return out;
  std::string text;
  for (std::size_t i = kCauseHeader; i < causeLength && text.size() < kMaxText; ++i) {
    const auto c = std::to_integer<unsigned char>(cause[i]);
    if (c == 0) break;
    text += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (!text.empty()) out += ": " + text;
  return out;
}

}  // namespace ifmesh::rtc
