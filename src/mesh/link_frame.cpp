#include "mesh/link_frame.hpp"

#include <algorithm>

#include "ifmesh/ifmessage.hpp"
#include "json_depth.hpp"

namespace ifmesh::detail {

std::vector<nlohmann::json> splitLinkFrames(const std::string& text) {
  std::vector<nlohmann::json> frames;
  // Too deep to copy or dump safely (the batch wrapper adds two levels): one malformed frame.
  std::size_t depth = jsonNestingDepth(text, kMaxLinkFrameDepth + 2);
  if (depth > kMaxLinkFrameDepth + 2) {
    frames.push_back(nlohmann::json(nlohmann::json::value_t::discarded));
    return frames;
  }
  nlohmann::json frame = nlohmann::json::parse(text, nullptr, false);
  // value("t", "") would throw type_error for a non-string "t": check the type first.
  if (!frame.is_discarded() && frame.is_object() && frame.contains("t") && frame["t"].is_string() &&
      frame["t"] == "batch" && frame.contains("f") && frame["f"].is_array()) {
    for (auto& inner : frame["f"]) frames.push_back(std::move(inner));  // split again
    return frames;
  }
  if (depth > kMaxLinkFrameDepth) frame = nlohmann::json(nlohmann::json::value_t::discarded);
  frames.push_back(std::move(frame));
  return frames;
}

std::optional<std::string> linkFrameType(const nlohmann::json& frame) {
  if (frame.is_discarded() || !frame.is_object() || !frame.contains("t") || !frame["t"].is_string())
    return std::nullopt;
  return frame["t"].get<std::string>();
}

std::optional<std::uint64_t> linkFrameSeq(const nlohmann::json& frame, const char* key) {
  auto it = frame.find(key);
  if (it == frame.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<std::uint64_t>();
}

int linkFrameHops(const nlohmann::json& frame) {
  auto hopsIt = frame.find("h");
  if (hopsIt == frame.end() || !hopsIt->is_number_unsigned()) return 0;
  // get<int>() of a large count went negative (escaping the hop limit) or made the agent's
  // hops + 1 overflow; any count this high is over the limit anyway.
  return static_cast<int>(std::min<std::uint64_t>(hopsIt->get<std::uint64_t>(), kMaxLinkHops));
}

std::optional<int> linkFrameLane(const nlohmann::json& frame) {
  auto it = frame.find("l");
  if (it == frame.end()) return static_cast<int>(MessagePriority::Normal);
  if (!it->is_number_unsigned() || it->get<std::uint64_t>() >= kMessagePriorities)
    return std::nullopt;
  return static_cast<int>(it->get<std::uint64_t>());
}

std::optional<std::array<std::uint64_t, 4>> linkFrameLanes(const nlohmann::json& frame) {
  auto it = frame.find("lanes");
  if (it == frame.end() || !it->is_array() || it->size() != kMessagePriorities) return std::nullopt;
  std::array<std::uint64_t, 4> out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!(*it)[i].is_number_unsigned()) return std::nullopt;
    out[i] = (*it)[i].get<std::uint64_t>();
  }
  return out;
}

}  // namespace ifmesh::detail
