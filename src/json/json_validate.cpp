#include "json/json_validate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "json/json_scan.hpp"

namespace ifmesh::detail::json {

namespace {

struct TooDeep {};

class Scanner {
 public:
  Scanner(const char* p, const char* end, std::size_t maxDepth)
      : p_(p), end_(end), maxDepth_(maxDepth) {}

  const char* pos() const { return p_; }
  std::size_t deepest() const { return deepest_; }

  void skipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool value(std::size_t depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
        return container(depth + 1, '}', true);
      case '[':
        return container(depth + 1, ']', false);
      case '"':
        return string();
      case 't':
        return literal("true", 4);
      case 'f':
        return literal("false", 5);
      case 'n':
        return literal("null", 4);
      default:
        return number();
    }
  }

 private:
  bool literal(const char* word, std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0) return false;
    p_ += n;
    return true;
  }

  // An object (members "key": value) or an array (values), at its opening bracket.
  bool container(std::size_t depth, char close, bool members) {
    if (depth > maxDepth_) throw TooDeep{};
    deepest_ = std::max(deepest_, depth);
    ++p_;
    skipSpace();
    if (p_ != end_ && *p_ == close) {
      ++p_;
      return true;
    }
    for (;;) {
      if (members) {
        if (p_ == end_ || *p_ != '"' || !string()) return false;
        skipSpace();
        if (p_ == end_ || *p_ != ':') return false;
        ++p_;
        skipSpace();
      }
      if (!value(depth)) return false;
      skipSpace();
      if (p_ == end_) return false;
      if (*p_ == close) {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
      skipSpace();
    }
  }

  // The code unit of the "\uXXXX" at p_, moving past it, or -1.
  long codeUnit() {
    long unit = unicodeEscape(p_, static_cast<std::size_t>(end_ - p_));
    if (unit >= 0) p_ += 6;
    return unit;
  }

  bool string() {
    ++p_;
    for (;;) {
      p_ += plainRun(p_, static_cast<std::size_t>(end_ - p_));
      if (p_ == end_) return false;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) {
        std::size_t len = utf8Sequence(p_, static_cast<std::size_t>(end_ - p_));
        if (len == 0) return false;
        p_ += len;
        continue;
      }
      // A backslash.
      if (end_ - p_ < 2) return false;
      if (p_[1] == 'u') {
        long unit = codeUnit();
        if (unit < 0 || (unit >= 0xdc00 && unit <= 0xdfff)) return false;  // a low surrogate alone
        if (unit >= 0xd800 && unit <= 0xdbff) {
          long low = codeUnit();
          if (low < 0xdc00 || low > 0xdfff) return false;
        }
        continue;
      }
      if (std::strchr("\"\\/bfnrt", p_[1]) == nullptr || p_[1] == '\0') return false;
      p_ += 2;
    }
  }

  bool number() {
    const char* start = p_;
    const NumberToken shape = numberToken(p_, end_);
    if (!shape.end) return false;
    p_ = shape.end;
    // parse() refuses a number whose double is infinite. Without an exponent that needs more
    // than 308 integer digits, so only such tokens pay for a conversion.
    if (!shape.exponent && shape.integerDigits <= 300) return true;
    return std::isfinite(std::strtod(std::string(start, p_).c_str(), nullptr));
  }

  const char* p_;
  const char* end_;
  std::size_t maxDepth_;
  std::size_t deepest_ = 0;
};

}  // namespace

Scan scanValue(const char* p, const char* end, std::size_t depth, std::size_t maxDepth) {
  Scan result;
  try {
    Scanner scanner(p, end, maxDepth);
    if (scanner.value(depth)) {
      result.end = scanner.pos();
      result.depth = std::max(depth, scanner.deepest());
    }
  } catch (const TooDeep&) {
    result.tooDeep = true;
  }
  return result;
}

Checked check(std::string_view text, std::size_t maxDepth) {
  Checked result;
  try {
    Scanner scanner(text.data(), text.data() + text.size(), maxDepth);
    scanner.skipSpace();
    if (!scanner.value(0)) return result;
    scanner.skipSpace();
    result.ok = scanner.pos() == text.data() + text.size();
    result.depth = scanner.deepest();
  } catch (const TooDeep&) {
    result.tooDeep = true;
  }
  return result;
}

}  // namespace ifmesh::detail::json
