#include "signaling/protocol_rules.hpp"

#include <algorithm>
#include <array>

#include "ifmesh/signaling.hpp"

namespace ifmesh::signaling {

namespace {

bool isAlphanumeric(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

}  // namespace

bool isValidAgentId(std::string_view id) {
  if (id.empty() || id.size() > kMaxAgentIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return isAlphanumeric(c) || c == '.' || c == '_' || c == ':' || c == '@' || c == '-';
  });
}

namespace detail {

bool isServerMessageType(std::string_view type) {
  static constexpr std::array<std::string_view, 5> kServerTypes = {
      "registered", "agent-joined", "agent-left", "error", "register"};
  return std::find(kServerTypes.begin(), kServerTypes.end(), type) != kServerTypes.end();
}

bool isValidMessageType(std::string_view type) {
  if (type.empty() || type.size() > 64) return false;
  return std::all_of(type.begin(), type.end(),
                     [](char c) { return isAlphanumeric(c) || c == '.' || c == '_' || c == '-'; });
}

ClientFrame judgeClientFrame(const std::string& text) {
  ClientFrame f;
  auto refuse = [&](std::string text) {
    f.message = nullptr;
    f.errorCode = "bad_message";
    f.errorText = std::move(text);
    return f;
  };
  // Measured before parsing: relaying re-serialises the message, which recurses per level.
  if (::ifmesh::detail::jsonNestingDepth(text, kMaxMessageDepth) > kMaxMessageDepth)
    return refuse("message nested deeper than " + std::to_string(kMaxMessageDepth) + " levels");
  f.message = nlohmann::json::parse(text, nullptr, false);
  if (f.message.is_discarded() || !f.message.is_object())
    return refuse("expected a JSON object with a string 'type'");
  auto type = f.message.find("type");
  if (type == f.message.end() || !type->is_string())
    return refuse("expected a JSON object with a string 'type'");
  f.type = type->get<std::string>();
  if (!isValidMessageType(f.type)) return refuse("'type' must be 1 to 64 of A-Z a-z 0-9 . _ -");
  if (f.type == "register") return f;
  // Only the server speaks for the server: its own types are never relayed.
  if (isServerMessageType(f.type)) return refuse("'" + f.type + "' is sent by the server only");
  auto to = f.message.find("to");
  if (to == f.message.end() || !to->is_string() || !isValidAgentId(to->get<std::string>()))
    return refuse("a relayed message needs a valid agent id in 'to'");
  f.to = to->get<std::string>();
  return f;
}

}  // namespace detail
}  // namespace ifmesh::signaling
