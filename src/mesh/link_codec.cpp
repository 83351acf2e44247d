#include "mesh/link_codec.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "ifmesh/error.hpp"
#include "json/json_reader.hpp"
#include "mesh/frame_compression.hpp"
#include "mesh/link_frame_reader.hpp"

namespace ifmesh::detail::link {

namespace {

using Json = nlohmann::json;

std::optional<std::uint64_t> unsignedField(const Json& frame, const char* key) {
  auto it = frame.find(key);
  if (it == frame.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<std::uint64_t>();
}

// "l": Normal when absent, nothing when not a lane number.
std::optional<int> laneField(const Json& frame) {
  auto it = frame.find("l");
  if (it == frame.end()) return static_cast<int>(MessagePriority::Normal);
  if (!it->is_number_unsigned() || it->get<std::uint64_t>() >= kLanes) return std::nullopt;
  return static_cast<int>(it->get<std::uint64_t>());
}

Frame decodeHello(const Json& frame) {
  Hello h;
  if (auto it = frame.find("v"); it != frame.end()) {
    if (!it->is_number_unsigned()) return Malformed{"malformed hello: bad version"};
    h.version = it->get<std::uint64_t>();
  }
  auto recv = unsignedField(frame, "recv");
  if (!recv) return Malformed{"malformed hello: no recv"};
  h.delivered[static_cast<int>(MessagePriority::Normal)] = *recv;
  if (auto it = frame.find("lanes"); it != frame.end()) {
    if (!it->is_array() || it->size() != kLanes) return Malformed{"malformed hello: bad lanes"};
    for (std::size_t i = 0; i < kLanes; ++i) {
      if (!(*it)[i].is_number_unsigned()) return Malformed{"malformed hello: bad lanes"};
      h.delivered[i] = (*it)[i].get<std::uint64_t>();
    }
  }
  if (auto it = frame.find("inc"); it != frame.end()) {
    if (!it->is_number_unsigned()) return Malformed{"malformed hello: bad inc"};
    h.incarnation = it->get<std::uint64_t>();
  }
  if (auto it = frame.find("peer"); it != frame.end()) {
    if (!it->is_number_unsigned()) return Malformed{"malformed hello: bad peer"};
    h.aboutIncarnation = it->get<std::uint64_t>();
  }
  if (auto it = frame.find("compress"); it != frame.end()) {
    if (!it->is_array()) return Malformed{"malformed hello: bad compress"};
    for (const auto& format : *it) {
      if (!format.is_string()) return Malformed{"malformed hello: bad compress"};
      if (format.get_ref<const std::string&>() == "zstd") h.readsZstd = true;
    }
  }
  if (auto it = frame.find("frames"); it != frame.end()) {
    if (!it->is_array()) return Malformed{"malformed hello: bad frames"};
    for (const auto& type : *it) {
      if (!type.is_string()) return Malformed{"malformed hello: bad frames"};
      if (type.get_ref<const std::string&>() == "whead") h.readsWhead = true;
    }
  }
  // A hello without its proof still decodes: the session refuses it as missing_signature.
  if (auto it = frame.find("fp"); it != frame.end() && it->is_string())
    h.fingerprint = it->get<std::string>();
  if (auto it = frame.find("sig"); it != frame.end() && it->is_string())
    h.signature = it->get<std::string>();
  return h;
}

Frame decodeMsg(Json& frame, bool payloadAsText) {
  auto seq = unsignedField(frame, "s");
  if (!seq) return Malformed{"frame without link sequence"};
  auto lane = laneField(frame);
  if (!lane) return Malformed{"bad priority lane"};
  auto m = frame.find("m");
  if (m == frame.end()) return Malformed{"msg without message"};
  Msg msg;
  msg.seq = *seq;
  msg.lane = *lane;
  // A count above kMaxHops is over any hop limit anyway; clamping keeps hops + 1 in range.
  if (auto hops = unsignedField(frame, "h"))
    msg.hops = static_cast<int>(std::min<std::uint64_t>(*hops, kMaxHops));
  else if (frame.contains("h"))
    return Malformed{"bad hop count"};
  if (auto a = frame.find("a"); a != frame.end()) {
    if (!a->is_number_unsigned()) return Malformed{"bad ack"};
    msg.ack = a->get<std::uint64_t>();
  }
  if (auto r = frame.find("r"); r != frame.end()) {
    if (!r->is_number_unsigned()) return Malformed{"bad ack request"};
    msg.ackRequested = r->get<std::uint64_t>() != 0;
  }
  try {
    msg.message = ifmessageFromJsonValue(std::move(*m));  // the frame is ours to take
  } catch (const Error& e) {
    return Malformed{e.what()};
  }
  if (payloadAsText) {
    // kRawPayload kept the payload's text as a string value (checked by the reader).
    if (!msg.message.payload.is_string()) return Malformed{"msg payload not kept as text"};
    msg.message.payloadJson = std::move(msg.message.payload.get_ref<std::string&>());
    msg.message.payload = nullptr;
  }
  return msg;
}

Frame decodeAck(const Json& frame) {
  auto seq = unsignedField(frame, "seq");
  if (!seq) return Malformed{"malformed ack"};
  auto lane = laneField(frame);
  if (!lane) return Malformed{"bad priority lane"};
  return Ack{*seq, *lane};
}

Frame decodeWhead(const Json& frame) {
  auto seq = unsignedField(frame, "seq");
  if (!seq || *seq == 0) return Malformed{"malformed whead: bad seq"};
  auto hash = frame.find("hash");
  if (hash == frame.end() || !hash->is_string() ||
      hash->get_ref<const std::string&>().size() != 64 ||
      hash->get_ref<const std::string&>().find_first_not_of("0123456789abcdef") !=
          std::string::npos)
    return Malformed{"malformed whead: bad hash"};
  auto sig = frame.find("sig");
  if (sig == frame.end() || !sig->is_string() ||
      sig->get_ref<const std::string&>().size() > kMaxWheadSigChars)
    return Malformed{"malformed whead: bad sig"};
  return Whead{*seq, hash->get<std::string>(), sig->get<std::string>()};
}

Frame decodeOne(Json& frame, bool payloadAsText) {
  if (frame.is_discarded() || !frame.is_object()) return Malformed{"malformed frame"};
  auto t = frame.find("t");
  if (t == frame.end() || !t->is_string()) return Malformed{"malformed frame"};
  const auto& type = t->get_ref<const std::string&>();
  if (type == "hello") return decodeHello(frame);
  if (type == "msg") return decodeMsg(frame, payloadAsText);
  if (type == "ack") return decodeAck(frame);
  if (type == "whead") return decodeWhead(frame);
  // Bounded: the type string came in a channel message of bounded size.
  return Malformed{"unknown frame type " + type.substr(0, 64)};
}

// A msg frame's payload ("m": {..., "payload": ...}), when it is to stay text.
constexpr json::RawMember kRawPayload{"m", "payload"};

}  // namespace

std::vector<Frame> decode(std::string_view text, bool payloadAsText) {
  if (auto common = readCommonFrames(text, payloadAsText)) return std::move(*common);
  return decodeGeneral(text, payloadAsText);
}

std::vector<Frame> decodeGeneral(std::string_view text, bool payloadAsText) {
  std::vector<Frame> frames;
  // Too deep to copy or dump safely (the batch wrapper adds two levels): one malformed frame.
  auto [parsed, tooDeep, depth] =
      json::parseBounded(text, kMaxFrameDepth + 2, payloadAsText ? &kRawPayload : nullptr);
  if (tooDeep) {
    frames.push_back(Malformed{"frame nested too deep"});
    return frames;
  }
  if (parsed.is_discarded()) {
    frames.push_back(Malformed{"malformed frame"});
    return frames;
  }
  if (parsed.is_object()) {
    auto t = parsed.find("t");
    if (t != parsed.end() && t->is_string() && *t == "batch") {
      auto f = parsed.find("f");
      if (f == parsed.end() || !f->is_array()) {
        frames.push_back(Malformed{"malformed batch"});
        return frames;
      }
      frames.reserve(f->size());
      for (auto& inner : *f) {
        // A batch inside a batch is not a frame (the sender never nests them).
        if (inner.is_object() && inner.contains("t") && inner["t"] == "batch")
          frames.push_back(Malformed{"nested batch"});
        else
          frames.push_back(decodeOne(inner, payloadAsText));
      }
      return frames;
    }
  }
  if (depth > kMaxFrameDepth) {
    frames.push_back(Malformed{"frame nested too deep"});
    return frames;
  }
  frames.push_back(decodeOne(parsed, payloadAsText));
  return frames;
}

std::vector<Frame> decodeBinary(std::span<const std::byte> message, std::size_t maxTextBytes,
                                bool payloadAsText) {
  std::string text;
  try {
    text = decompressFrame(message, maxTextBytes);
  } catch (const Error& e) {
    return {Malformed{e.what()}};
  }
  return decode(text, payloadAsText);
}

std::string encode(const Hello& hello) {
  Json lanes = Json::array();
  for (auto d : hello.delivered) lanes.push_back(d);
  Json j = {{"t", "hello"},
            {"v", hello.version},
            {"recv", hello.delivered[static_cast<int>(MessagePriority::Normal)]},
            {"lanes", std::move(lanes)},
            {"inc", hello.incarnation},
            {"fp", hello.fingerprint},
            {"sig", hello.signature}};
  if (hello.aboutIncarnation) j["peer"] = *hello.aboutIncarnation;
  if (hello.readsZstd) j["compress"] = Json::array({"zstd"});
  if (hello.readsWhead) j["frames"] = Json::array({"whead"});
  return j.dump();
}

std::string encode(const Ack& ack) {
  Json j = {{"t", "ack"}, {"seq", ack.seq}};
  if (ack.lane != static_cast<int>(MessagePriority::Normal)) j["l"] = ack.lane;
  return j.dump();
}

std::string encode(const Whead& head) {
  return Json{{"t", "whead"}, {"seq", head.seq}, {"hash", head.hash}, {"sig", head.sig}}.dump();
}

std::string encodeMsg(std::uint64_t seq, int hops, int lane, std::uint64_t ack,
                      std::string_view messageJson, bool ackRequested) {
  // Appended piece by piece into one reserved buffer: the message is copied once.
  std::string f;
  f.reserve(messageJson.size() + 96);
  f += "{\"t\":\"msg\",\"s\":";
  f += std::to_string(seq);
  f += ",\"h\":";
  f += std::to_string(hops);
  if (lane != static_cast<int>(MessagePriority::Normal)) {
    f += ",\"l\":";
    f += std::to_string(lane);
  }
  if (ack != 0) {
    f += ",\"a\":";
    f += std::to_string(ack);
  }
  if (ackRequested) f += ",\"r\":1";
  f += ",\"m\":";
  f += messageJson;
  f += '}';
  return f;
}

std::size_t maxMsgFrameBytes(int hops, std::string_view messageJson) {
  // The longest envelope, measured without copying the message into it.
  return encodeMsg(UINT64_MAX, hops, kLanes - 1, UINT64_MAX, {}, true).size() + messageJson.size();
}

std::string encodeBatch(std::span<const std::string> frames) {
  std::size_t bytes = 16;
  for (const auto& f : frames) bytes += f.size() + 1;
  std::string text;
  text.reserve(bytes);
  // Each frame is a JSON object, so joining them makes a valid JSON array.
  text = "{\"t\":\"batch\",\"f\":[";
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (i) text += ',';
    text += frames[i];
  }
  text += "]}";
  return text;
}

}  // namespace ifmesh::detail::link
