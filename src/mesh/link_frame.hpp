#pragma once
// Decoding of the agent link's channel frames (docs/link-protocol.md). Pure functions of
// the received text, so they can be tested and fuzzed without a connection.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "json_depth.hpp"

namespace ifmesh::detail {

// Deepest single frame accepted: an IFMessage at its limit inside the frame object.
constexpr std::size_t kMaxLinkFrameDepth = kMaxJsonDepth + 1;
// Hop counts are clamped to this: far above the agent's hop limit, and hops + 1 cannot overflow.
constexpr int kMaxLinkHops = 1 << 16;

// One channel message as its frames: {"t":"batch","f":[...]} yields its elements; anything else,
// even text that is not JSON or nests deeper than kMaxLinkFrameDepth (a discarded value), is a
// single frame.
std::vector<nlohmann::json> splitLinkFrames(const std::string& text);

// The frame's "t", or nothing when the frame is not an object with a string "t".
std::optional<std::string> linkFrameType(const nlohmann::json& frame);

// An unsigned sequence field ("recv", "seq", "s"); nothing when absent or not unsigned.
std::optional<std::uint64_t> linkFrameSeq(const nlohmann::json& frame, const char* key);

// How many agents forwarded the message ("h"): 0 when absent or not unsigned, at most
// kMaxLinkHops.
int linkFrameHops(const nlohmann::json& frame);

// The priority lane ("l"): Normal when absent, nothing when not a lane number.
std::optional<int> linkFrameLane(const nlohmann::json& frame);

// A hello's per-lane delivered sequences ("lanes"), or nothing when absent or malformed.
std::optional<std::array<std::uint64_t, 4>> linkFrameLanes(const nlohmann::json& frame);

}  // namespace ifmesh::detail
