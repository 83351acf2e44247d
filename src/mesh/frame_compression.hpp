#pragma once
// zstd for link frames in LOW mode. A compressed channel message is binary: the 4-byte magic
// "IFZ1" and one zstd frame whose header records the original size. Text channel messages are
// never compressed, so the flag costs uncompressed traffic nothing.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ifmesh::detail {

// The binary channel message for `text`, or nothing when zstd would not make it smaller.
std::optional<std::string> compressFrame(std::string_view text, int level);
// The text inside a compressed channel message. Throws ifmesh::Error(MalformedFrame) for a bad
// magic, a corrupt or truncated zstd frame, an unknown original size, or an original size above
// maxBytes (checked before any memory is allocated for it).
std::string decompressFrame(std::span<const std::byte> message, std::size_t maxBytes);

}  // namespace ifmesh::detail
