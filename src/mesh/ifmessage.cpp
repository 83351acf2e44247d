#include "ifmesh/ifmessage.hpp"

#include <charconv>
#include <concepts>

#include "hex.hpp"
#include "ifmesh/error.hpp"
#include "json/json_reader.hpp"
#include "json/json_writer.hpp"
#include "json_depth.hpp"
#include "random_batch.hpp"

namespace ifmesh {

const char* toString(MessagePriority p) noexcept {
  switch (p) {
    case MessagePriority::Control:
      return "control";
    case MessagePriority::High:
      return "high";
    case MessagePriority::Normal:
      return "normal";
    case MessagePriority::Low:
      return "low";
  }
  return "normal";
}

std::optional<MessagePriority> priorityFromString(std::string_view name) noexcept {
  for (int p = 0; p < kMessagePriorities; ++p)
    if (name == toString(static_cast<MessagePriority>(p))) return static_cast<MessagePriority>(p);
  return std::nullopt;
}

std::string newMessageId() {
  unsigned char b[16];
  detail::randomBytes(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  // 8-4-4-4-12 hex digits, written by hand: snprintf's format parsing showed in every message.
  std::string out;
  out.reserve(36);
  std::size_t begin = 0;
  for (std::size_t groupBytes : {4, 2, 2, 2, 6}) {
    if (begin != 0) out += '-';
    detail::appendHex(out, b + begin, groupBytes);
    begin += groupBytes;
  }
  return out;
}

nlohmann::json payloadValue(const IFMessage& m) {
  if (m.payloadJson.empty()) return m.payload;
  auto value = detail::json::parse(m.payloadJson, detail::kMaxJsonDepth);
  if (value.is_discarded()) throw Error(Errc::InvalidArgument, "payload is not valid JSON text");
  return value;
}

nlohmann::json toJson(const IFMessage& m) {
  nlohmann::json j = {{"id", m.id},
                      {"timestamp", m.timestamp},
                      {"level", m.level},
                      {"source", m.source},
                      {"destination", m.destination},
                      {"version", m.version},
                      {"payload", payloadValue(m)},
                      {"sequence_num", m.sequence}};
  if (!m.traceId.empty()) j["trace_id"] = m.traceId;
  // Optional, so Normal messages keep the original wire format byte for byte.
  if (m.priority != MessagePriority::Normal) j["priority"] = toString(m.priority);
  if (m.incarnation != 0) j["incarnation"] = m.incarnation;
  if (!m.signature.empty()) j["signature"] = m.signature;
  return j;
}

std::string canonicalForm(const IFMessage& m) {
  nlohmann::json fields = nlohmann::json::array();
  fields.push_back("ifmesh-msg-v1");  // domain separation from every other signed thing
  fields.push_back(m.id);
  fields.push_back(m.timestamp);
  fields.push_back(m.level);
  fields.push_back(m.source);
  fields.push_back(m.destination);
  fields.push_back(m.version);
  fields.push_back(m.sequence);
  fields.push_back(toString(m.priority));
  fields.push_back(m.traceId);
  fields.push_back(m.incarnation);
  fields.push_back(payloadValue(m));
  return detail::json::dump(fields);
}

namespace {

void appendKey(std::string& out, std::string_view key) {
  out += out.size() == 1 ? "\"" : ",\"";
  out += key;
  out += "\":";
}

void appendField(std::string& out, std::string_view key, const std::string& value) {
  appendKey(out, key);
  detail::json::appendString(out, value);
}

template <std::integral Integer>
void appendField(std::string& out, std::string_view key, Integer n) {
  appendKey(out, key);
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
}

}  // namespace

// The text of toJson(message).dump(), byte for byte (keys in nlohmann's sorted order) but for a
// payloadJson, which goes in as it is. Written directly: building the JSON object first (a map
// node and a copy of every field, a deep copy of the payload) and then walking it was about a
// third of a message's JSON cost.
std::string serialize(const IFMessage& m) {
  std::string payload = m.payloadJson.empty() ? detail::json::dump(m.payload) : std::string();
  const std::string& payloadText = m.payloadJson.empty() ? payload : m.payloadJson;
  std::string out;
  out.reserve(payloadText.size() + m.id.size() + m.timestamp.size() + m.source.size() +
              m.destination.size() + m.traceId.size() + m.signature.size() + 192);
  out += '{';
  appendField(out, "destination", m.destination);
  appendField(out, "id", m.id);
  if (m.incarnation != 0) appendField(out, "incarnation", m.incarnation);
  appendField(out, "level", m.level);
  appendKey(out, "payload");
  out += payloadText;
  if (m.priority != MessagePriority::Normal) appendField(out, "priority", toString(m.priority));
  appendField(out, "sequence_num", m.sequence);
  if (!m.signature.empty()) appendField(out, "signature", m.signature);
  appendField(out, "source", m.source);
  appendField(out, "timestamp", m.timestamp);
  if (!m.traceId.empty()) appendField(out, "trace_id", m.traceId);
  appendField(out, "version", m.version);
  out += '}';
  return out;
}

IFMessage ifmessageFromJson(std::string_view text, std::size_t maxBytes) {
  if (text.size() > maxBytes)
    throw Error(Errc::MessageTooLarge, "IFMessage of " + std::to_string(text.size()) +
                                           " bytes exceeds " + std::to_string(maxBytes));
  auto parsed = detail::json::parseBounded(text, detail::kMaxJsonDepth);
  if (parsed.tooDeep)
    throw Error(Errc::InvalidArgument, "IFMessage: JSON nested deeper than " +
                                           std::to_string(detail::kMaxJsonDepth) + " levels");
  if (parsed.value.is_discarded()) throw Error(Errc::InvalidArgument, "IFMessage: not valid JSON");
  return ifmessageFromJsonValue(std::move(parsed.value));
}

IFMessage ifmessageFromJsonValue(const nlohmann::json& j) {
  nlohmann::json copy = j;
  return ifmessageFromJsonValue(std::move(copy));
}

// Takes the strings and the payload out of `j` instead of copying them (a received frame is
// parsed once and then discarded). On an error `j` may be left partly moved from.
IFMessage ifmessageFromJsonValue(nlohmann::json&& j) {
  auto bad = [](const std::string& why) {
    return Error(Errc::InvalidArgument, "IFMessage: " + why);
  };
  if (!j.is_object()) throw bad("not a JSON object");
  auto str = [&](const char* key, bool required) -> std::string {
    auto it = j.find(key);
    if (it == j.end()) {
      if (required) throw bad(std::string("missing '") + key + "'");
      return {};
    }
    if (!it->is_string()) throw bad(std::string("'") + key + "' must be a string");
    return std::move(it->get_ref<std::string&>());
  };
  IFMessage m;
  m.id = str("id", true);
  m.timestamp = str("timestamp", true);
  m.source = str("source", true);
  m.destination = str("destination", true);
  m.version = str("version", true);
  m.traceId = str("trace_id", false);
  m.signature = str("signature", false);
  if (m.id.empty() || m.source.empty() || m.destination.empty())
    throw bad("id, source and destination must not be empty");
  if (m.version != "2.1") throw bad("unsupported version '" + m.version + "'");
  auto level = j.find("level");
  if (level == j.end() || !level->is_number_integer()) throw bad("'level' must be an integer");
  auto lv = level->get<long long>();
  if (lv < 1 || lv > 10) throw bad("'level' must be 1..10");
  m.level = static_cast<int>(lv);
  auto payload = j.find("payload");
  if (payload == j.end()) throw bad("missing 'payload'");
  m.payload = std::move(*payload);
  auto seq = j.find("sequence_num");
  if (seq != j.end()) {
    if (!seq->is_number_unsigned()) throw bad("'sequence_num' must be an unsigned integer");
    m.sequence = seq->get<std::uint64_t>();
  }
  auto incarnation = j.find("incarnation");
  if (incarnation != j.end()) {
    if (!incarnation->is_number_unsigned()) throw bad("'incarnation' must be an unsigned integer");
    m.incarnation = incarnation->get<std::uint64_t>();
  }
  auto priority = j.find("priority");
  if (priority != j.end()) {
    if (!priority->is_string()) throw bad("'priority' must be a string");
    const auto& name = priority->get_ref<const std::string&>();
    auto known = priorityFromString(name);
    if (!known) throw bad("unknown 'priority' '" + name + "'");
    m.priority = *known;
  }
  return m;
}

}  // namespace ifmesh
