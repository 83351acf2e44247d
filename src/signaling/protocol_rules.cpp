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

}  // namespace detail
}  // namespace ifmesh::signaling
