#include "json/json_reader.hpp"

#include <algorithm>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "json/json_scan.hpp"
#include "json/json_validate.hpp"

namespace ifmesh::detail::json {

namespace {

using Json = nlohmann::json;

struct TooDeep {};

// The code unit of the "\uXXXX" at p, moving past it, or -1.
long codeUnit(const char*& p, const char* end) {
  long unit = unicodeEscape(p, static_cast<std::size_t>(end - p));
  if (unit >= 0) p += 6;
  return unit;
}

void appendUtf8(std::string& s, unsigned long cp) {
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xc0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xe0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    s += static_cast<char>(0xf0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

}  // namespace

bool readString(const char*& p, const char* end, std::string& s) {
  ++p;
  for (;;) {
    std::size_t run = plainRun(p, static_cast<std::size_t>(end - p));
    s.append(p, run);
    p += run;
    if (p == end) return false;
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"') {
      ++p;
      return true;
    }
    if (c < 0x20) return false;
    if (c >= 0x80) {
      std::size_t len = utf8Sequence(p, static_cast<std::size_t>(end - p));
      if (len == 0) return false;
      s.append(p, len);
      p += len;
      continue;
    }
    // A backslash.
    if (end - p < 2) return false;
    switch (p[1]) {
      case '"':
        s += '"';
        break;
      case '\\':
        s += '\\';
        break;
      case '/':
        s += '/';
        break;
      case 'b':
        s += '\b';
        break;
      case 'f':
        s += '\f';
        break;
      case 'n':
        s += '\n';
        break;
      case 'r':
        s += '\r';
        break;
      case 't':
        s += '\t';
        break;
      case 'u': {
        long unit = codeUnit(p, end);
        if (unit < 0) return false;
        unsigned long cp = static_cast<unsigned long>(unit);
        if (cp >= 0xdc00 && cp <= 0xdfff) return false;  // a low surrogate alone
        if (cp >= 0xd800 && cp <= 0xdbff) {
          long low = codeUnit(p, end);
          if (low < 0xdc00 || low > 0xdfff) return false;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (static_cast<unsigned long>(low) - 0xdc00);
        }
        appendUtf8(s, cp);
        continue;  // codeUnit() moved past the escape(s)
      }
      default:
        return false;
    }
    p += 2;
  }
}

namespace {

class Reader {
 public:
  Reader(std::string_view text, std::size_t maxDepth, const RawMember* raw)
      : p_(text.data()), end_(text.data() + text.size()), maxDepth_(maxDepth), raw_(raw) {}

  // The deepest array/object nesting read so far.
  std::size_t deepest() const { return deepest_; }

  // False for text that is not one JSON value (surrounded by whitespace).
  bool document(Json& out) {
    // A byte order mark may open the text (nlohmann::json skips one too).
    if (end_ - p_ >= 3 && std::memcmp(p_, "\xEF\xBB\xBF", 3) == 0) p_ += 3;
    skipSpace();
    if (!value(out, 0)) return false;
    skipSpace();
    // nlohmann::json reads a NUL byte as the end of the input: what follows one is ignored.
    return p_ == end_ || *p_ == '\0';
  }

 private:
  void skipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool literal(const char* word, std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n || std::memcmp(p_, word, n) != 0) return false;
    p_ += n;
    return true;
  }

  // rawScope: the value is a `raw_->parent` member's, whose `raw_->name` members stay text.
  bool value(Json& out, std::size_t depth, bool rawScope = false) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
        return object(out, depth + 1, rawScope);
      case '[':
        return array(out, depth + 1);
      case '"': {
        out = Json::value_t::string;
        return string(out.get_ref<std::string&>());
      }
      case 't':
        out = true;
        return literal("true", 4);
      case 'f':
        out = false;
        return literal("false", 5);
      case 'n':
        out = nullptr;
        return literal("null", 4);
      default:
        return number(out);
    }
  }

  // A member's value as its text (RawMember), checked as value() would check it.
  bool rawValue(Json& out, std::size_t depth) {
    auto scan = scanValue(p_, end_, depth, maxDepth_);
    if (scan.tooDeep) throw TooDeep{};
    if (!scan.end) return false;
    out = std::string(p_, scan.end);
    deepest_ = std::max(deepest_, scan.depth);
    p_ = scan.end;
    return true;
  }

  bool object(Json& out, std::size_t depth, bool rawScope) {
    if (depth > maxDepth_) throw TooDeep{};
    deepest_ = std::max(deepest_, depth);
    ++p_;  // '{'
    out = Json::value_t::object;
    auto& members = out.get_ref<Json::object_t&>();
    skipSpace();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    for (;;) {
      if (p_ == end_ || *p_ != '"') return false;
      std::string key;
      if (!string(key)) return false;
      skipSpace();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      skipSpace();
      Json member;
      if (rawScope && key == raw_->name) {
        if (!rawValue(member, depth)) return false;
      } else if (!value(member, depth, raw_ && key == raw_->parent)) {
        return false;
      }
      members.insert_or_assign(std::move(key), std::move(member));  // the last one wins
      skipSpace();
      if (p_ == end_) return false;
      if (*p_ == '}') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
      skipSpace();
    }
  }

  bool array(Json& out, std::size_t depth) {
    if (depth > maxDepth_) throw TooDeep{};
    deepest_ = std::max(deepest_, depth);
    ++p_;  // '['
    out = Json::value_t::array;
    auto& elements = out.get_ref<Json::array_t&>();
    skipSpace();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      elements.emplace_back();
      if (!value(elements.back(), depth)) return false;
      skipSpace();
      if (p_ == end_) return false;
      if (*p_ == ']') {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
      skipSpace();
    }
  }

  bool string(std::string& s) { return readString(p_, end_, s); }

  bool number(Json& out) {
    const char* start = p_;
    const NumberToken shape = numberToken(p_, end_);
    if (!shape.end) return false;
    p_ = shape.end;
    const bool integer = shape.integer;
    // strtoull/strtoll/strtod want a terminated string: the token, copied.
    std::string token(start, p_);
    char* stop = nullptr;
    if (integer) {
      errno = 0;
      if (*start == '-') {
        long long v = std::strtoll(token.c_str(), &stop, 10);
        if (errno == 0) {
          out = static_cast<std::int64_t>(v);
          return true;
        }
      } else {
        unsigned long long v = std::strtoull(token.c_str(), &stop, 10);
        if (errno == 0) {
          out = static_cast<std::uint64_t>(v);
          return true;
        }
      }
    }
    // Not an integer, or one too big for 64 bits: a double, which must be finite.
    double d = std::strtod(token.c_str(), &stop);
    if (!std::isfinite(d)) return false;
    out = d;
    return true;
  }

  const char* p_;
  const char* end_;
  std::size_t maxDepth_;
  const RawMember* raw_;
  std::size_t deepest_ = 0;
};

}  // namespace

Bounded parseBounded(std::string_view text, std::size_t maxDepth, const RawMember* raw) {
  Bounded result;
  try {
    Reader reader(text, maxDepth, raw);
    if (reader.document(result.value)) {
      result.depth = reader.deepest();
      return result;
    }
  } catch (const TooDeep&) {
    result.tooDeep = true;
  }
  result.value = Json(Json::value_t::discarded);
  return result;
}

nlohmann::json parse(std::string_view text, std::size_t maxDepth) {
  auto bounded = parseBounded(text, maxDepth);
  if (bounded.tooDeep) return Json::parse(text.begin(), text.end(), nullptr, false);
  return std::move(bounded.value);
}

}  // namespace ifmesh::detail::json
