#pragma once
// Payloads for floods that look like what agents send each other: JSON records with varied field
// names and values, words from a vocabulary, numbers and ids. zstd shrinks them about as much as
// it shrinks real agent traffic (3-5x), where a repeated string would shrink a hundredfold and
// hide any backlog. Deterministic: the same seed gives the same payload.
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

namespace ifmesh::bench {

// A JSON object that serializes to about `bytes` bytes (a little more, never less).
nlohmann::json floodPayload(std::uint64_t seed, std::size_t bytes);

}  // namespace ifmesh::bench
