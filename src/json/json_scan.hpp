#pragma once
// Byte scans shared by the JSON writer and reader: eight bytes at a time through the plain text
// of a string (no quote, no backslash, no control byte, ASCII), and strict UTF-8 validation of
// one sequence, as RFC 3629 defines it (no overlong forms, no surrogates, nothing above
// U+10FFFF) -- the same bytes nlohmann::json accepts -- and \u escapes.
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ifmesh::detail::json {

// The length of the run at `p` (at most `n` bytes) of ASCII bytes that a JSON string holds as
// they are: 0x20..0x7f except '"' and '\\'.
inline std::size_t plainRun(const char* p, std::size_t n) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t v;
    std::memcpy(&v, p + i, 8);
    // Any byte < 0x20, == '"', == '\\' or >= 0x80 in these eight (the tests never miss one;
    // a false alarm only sends the bytes to the loop below).
    const std::uint64_t quote = v ^ (kOnes * '"'), backslash = v ^ (kOnes * '\\');
    const std::uint64_t special = ((v - kOnes * 0x20) & ~v) | ((quote - kOnes) & ~quote) |
                                  ((backslash - kOnes) & ~backslash) | v;
    if (special & kHighs) break;
  }
  for (; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
  }
  return i;
}

// The length of the valid UTF-8 sequence of two to four bytes at `p` (at most `n` bytes), or 0.
inline std::size_t utf8Sequence(const char* p, std::size_t n) {
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(p[i]); };
  auto cont = [&](std::size_t i, unsigned char lo = 0x80, unsigned char hi = 0xbf) {
    return i < n && b(i) >= lo && b(i) <= hi;
  };
  const unsigned char c = b(0);
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c == 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c == 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

// A JSON number's token at `p`: where it ends (null when it is not a number) and its shape.
struct NumberToken {
  const char* end = nullptr;
  bool integer = true;            // no fraction, no exponent
  bool exponent = false;          // an exponent part
  std::size_t integerDigits = 0;  // before any fraction, the sign included
};

inline NumberToken numberToken(const char* p, const char* end) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  NumberToken t;
  const char* start = p;
  if (p != end && *p == '-') ++p;
  if (p == end) return t;
  if (*p == '0') {
    ++p;
  } else if (*p >= '1' && *p <= '9') {
    while (p != end && digit(*p)) ++p;
  } else {
    return t;
  }
  t.integerDigits = static_cast<std::size_t>(p - start);
  if (p != end && *p == '.') {
    t.integer = false;
    ++p;
    if (p == end || !digit(*p)) return t;
    while (p != end && digit(*p)) ++p;
  }
  if (p != end && (*p == 'e' || *p == 'E')) {
    t.integer = false;
    t.exponent = true;
    ++p;
    if (p != end && (*p == '+' || *p == '-')) ++p;
    if (p == end || !digit(*p)) return t;
    while (p != end && digit(*p)) ++p;
  }
  t.end = p;
  return t;
}

// The code unit of the escape "\uXXXX" at `p` (at most `n` bytes), or -1.
inline long unicodeEscape(const char* p, std::size_t n) {
  if (n < 6 || p[0] != '\\' || p[1] != 'u') return -1;
  long unit = 0;
  for (int i = 2; i < 6; ++i) {
    const char c = p[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return -1;
    unit = unit * 16 + d;
  }
  return unit;
}

}  // namespace ifmesh::detail::json
