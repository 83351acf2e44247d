#include "mesh/link_frame_reader.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <string>

#include "json/json_reader.hpp"
#include "json/json_validate.hpp"

namespace ifmesh::detail::link {

namespace {

// Not the common form: decode() takes the general path.
struct Other {};

class Reader {
 public:
  Reader(std::string_view text, bool payloadAsText)
      : p_(text.data()), end_(text.data() + text.size()), payloadAsText_(payloadAsText) {}

  std::vector<Frame> document() {
    std::vector<Frame> frames;
    skipSpace();
    frame(frames, false);
    skipSpace();
    if (p_ != end_) throw Other{};
    return frames;
  }

 private:
  void skipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  void expect(char c) {
    skipSpace();
    if (p_ == end_ || *p_ != c) throw Other{};
    ++p_;
  }

  // Walks an object's members: key(name) reads each value. Ends after the closing brace.
  template <typename Member>
  void members(Member&& member) {
    expect('{');
    skipSpace();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      return;
    }
    for (;;) {
      skipSpace();
      std::string key = string();
      expect(':');
      skipSpace();
      member(key);
      skipSpace();
      if (p_ == end_) throw Other{};
      if (*p_ == '}') {
        ++p_;
        return;
      }
      if (*p_ != ',') throw Other{};
      ++p_;
    }
  }

  std::string string() {
    if (p_ == end_ || *p_ != '"') throw Other{};
    std::string s;
    if (!json::readString(p_, end_, s)) throw Other{};
    return s;
  }

  // A JSON integer that nlohmann::json holds as unsigned: digits only, no leading zero, < 2^64.
  std::uint64_t unsignedNumber() {
    const char* start = p_;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    if (p_ == start || (*start == '0' && p_ - start > 1)) throw Other{};
    std::uint64_t v = 0;
    auto [stop, error] = std::from_chars(start, p_, v);
    if (error != std::errc() || stop != p_) throw Other{};
    return v;
  }

  // Each key once: a repeated one is left to the general path (where the last one wins).
  static void once(bool& seen) {
    if (seen) throw Other{};
    seen = true;
  }

  // The JSON value at p_ as the payload: its checked text, or its tree. `depth`: the
  // containers around it, a frame's and its message's at least; it may nest as deep as a
  // message's payload may (docs/link-protocol.md: a message 100 levels, a frame 101).
  void payload(IFMessage& m, std::size_t depth) {
    auto scan = json::scanValue(p_, end_, depth, depth + kMaxFrameDepth - 2);
    if (!scan.end) throw Other{};
    std::string_view text(p_, static_cast<std::size_t>(scan.end - p_));
    p_ = scan.end;
    if (payloadAsText_) {
      m.payloadJson = std::string(text);
      m.payload = nullptr;
      return;
    }
    auto parsed = json::parseBounded(text, kMaxFrameDepth);
    if (parsed.value.is_discarded()) throw Other{};
    m.payload = std::move(parsed.value);
  }

  // "m": the IFMessage, with what ifmessageFromJsonValue requires of it.
  IFMessage message(std::size_t depth) {
    // Its string fields, the first five required.
    struct Text {
      const char* key;
      std::string IFMessage::*field;
    };
    static constexpr Text kTexts[] = {{"id", &IFMessage::id},
                                      {"timestamp", &IFMessage::timestamp},
                                      {"source", &IFMessage::source},
                                      {"destination", &IFMessage::destination},
                                      {"version", &IFMessage::version},
                                      {"trace_id", &IFMessage::traceId},
                                      {"signature", &IFMessage::signature}};
    constexpr std::size_t kRequiredTexts = 5;
    IFMessage m;
    bool texts[std::size(kTexts)] = {};
    bool level = false, body = false, sequence = false, incarnation = false, priority = false;
    members([&](const std::string& key) {
      for (std::size_t i = 0; i < std::size(kTexts); ++i)
        if (key == kTexts[i].key) {
          once(texts[i]);
          m.*kTexts[i].field = string();
          return;
        }
      if (key == "level") {
        once(level);
        std::uint64_t v = unsignedNumber();
        if (v < 1 || v > 10) throw Other{};
        m.level = static_cast<int>(v);
      } else if (key == "payload") {
        once(body);
        payload(m, depth);
      } else if (key == "sequence_num") {
        once(sequence);
        m.sequence = unsignedNumber();
      } else if (key == "incarnation") {
        once(incarnation);
        m.incarnation = unsignedNumber();
      } else if (key == "priority") {
        once(priority);
        auto known = priorityFromString(string());
        if (!known) throw Other{};
        m.priority = *known;
      } else {
        throw Other{};
      }
    });
    for (std::size_t i = 0; i < kRequiredTexts; ++i)
      if (!texts[i]) throw Other{};
    if (!level || !body) throw Other{};
    if (m.id.empty() || m.source.empty() || m.destination.empty() || m.version != "2.1")
      throw Other{};
    return m;
  }

  // One frame object at p_: a msg or an ack, or (not inside one) a batch of them.
  void frame(std::vector<Frame>& out, bool inBatch) {
    // A frame's own depth: 1, or 3 inside a batch's object and array.
    const std::size_t depth = inBatch ? 3 : 1;
    std::string type;
    std::optional<std::uint64_t> s, h, a, r, seq, l;
    std::optional<IFMessage> m;
    bool t = false, f = false;
    members([&](const std::string& key) {
      auto number = [&](std::optional<std::uint64_t>& slot) {
        if (slot) throw Other{};
        slot = unsignedNumber();
      };
      if (key == "t") {
        once(t);
        type = string();
      } else if (key == "s") {
        number(s);
      } else if (key == "h") {
        number(h);
      } else if (key == "a") {
        number(a);
      } else if (key == "r") {
        number(r);
      } else if (key == "seq") {
        number(seq);
      } else if (key == "l") {
        number(l);
      } else if (key == "m") {
        if (m) throw Other{};
        // The payload sits inside the frame and "m".
        m = message(depth + 1);
      } else if (key == "f" && !inBatch) {
        once(f);
        array(out);
      } else {
        throw Other{};
      }
    });
    if (l && *l >= static_cast<std::uint64_t>(kLanes)) throw Other{};
    const int lane = l ? static_cast<int>(*l) : static_cast<int>(MessagePriority::Normal);
    if (type == "msg" && s && m && !seq && !f) {
      Msg msg;
      msg.seq = *s;
      msg.lane = lane;
      if (h) msg.hops = static_cast<int>(std::min<std::uint64_t>(*h, kMaxHops));
      if (a) msg.ack = *a;
      msg.ackRequested = r && *r != 0;
      msg.message = std::move(*m);
      out.push_back(std::move(msg));
    } else if (type == "ack" && seq && !s && !h && !a && !r && !m && !f) {
      out.push_back(Ack{*seq, lane});
    } else if (type == "batch" && f && !s && !h && !a && !r && !seq && !l && !m) {
      // array() put the batch's frames in `out`.
    } else {
      throw Other{};
    }
  }

  // A batch's "f": frame objects.
  void array(std::vector<Frame>& out) {
    if (p_ == end_ || *p_ != '[') throw Other{};
    ++p_;
    skipSpace();
    if (p_ != end_ && *p_ == ']') {
      ++p_;
      return;
    }
    for (;;) {
      skipSpace();
      frame(out, true);
      skipSpace();
      if (p_ == end_) throw Other{};
      if (*p_ == ']') {
        ++p_;
        return;
      }
      if (*p_ != ',') throw Other{};
      ++p_;
    }
  }

  const char* p_;
  const char* end_;
  bool payloadAsText_;
};

}  // namespace

std::optional<std::vector<Frame>> readCommonFrames(std::string_view text, bool payloadAsText) {
  try {
    return Reader(text, payloadAsText).document();
  } catch (const Other&) {
    return std::nullopt;
  }
}

}  // namespace ifmesh::detail::link
