#pragma once
// The frames that carry messages and acknowledgements, alone or in a batch, read straight from
// the channel message's text into Msg and Ack. decode()'s general path builds a JSON tree of a
// whole frame first, which was most of a received message's decoding cost.
//
// Only the common form is read here: each frame type's own keys, once each, with values of
// their types and everything a valid frame needs. For any other text it returns nothing, and
// decode() reads it the general way; for every text read here the general way gives the same
// frames (fuzz_link_frame compares the two on every input).
#include <optional>
#include <string_view>
#include <vector>

#include "mesh/link_codec.hpp"

namespace ifmesh::detail::link {

// payloadAsText: as decode()'s.
std::optional<std::vector<Frame>> readCommonFrames(std::string_view text, bool payloadAsText);

}  // namespace ifmesh::detail::link
