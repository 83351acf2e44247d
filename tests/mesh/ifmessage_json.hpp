#pragma once
// Hand-made IFMessage JSON for parser tests: payloads a serializer would never write.
#include <cstddef>
#include <string>

#include "ifmesh/ifmessage.hpp"

namespace ifmesh::test {

// `depth` nested empty arrays: [[[...]]].
inline std::string nestedArrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

// `message` as JSON with `payload` (raw JSON text) as its payload.
inline std::string withPayload(const IFMessage& message, const std::string& payload) {
  auto j = toJson(message);
  j.erase("payload");
  std::string s = j.dump();
  return s.substr(0, s.size() - 1) + ",\"payload\":" + payload + "}";
}

}  // namespace ifmesh::test
