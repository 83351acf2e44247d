#pragma once
// IFMessage: the unit agents exchange (the original design's schema, version "2.1").
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ifmesh {

struct IFMessage {
  std::string id;         // filled by Agent::send when empty
  std::string timestamp;  // ISO 8601 UTC; filled when empty
  int level = 2;          // 1 function->function, 2 module->module, ...
  std::string source;
  std::string destination;
  std::string version = "2.1";
  nlohmann::json payload = nlohmann::json::object();
  std::uint64_t sequence = 0;  // per (source, destination), assigned by Agent::send
  std::string traceId;
};

std::string newMessageId();  // UUID v4
nlohmann::json toJson(const IFMessage& message);
std::string serialize(const IFMessage& message);
// Throws ifmesh::Error(InvalidArgument / MessageTooLarge) with the reason; never anything else.
// JSON nested deeper than 100 levels is rejected (InvalidArgument).
IFMessage ifmessageFromJson(std::string_view text, std::size_t maxBytes = 1 << 20);
IFMessage ifmessageFromJsonValue(const nlohmann::json& value);  // same checks, already parsed

}  // namespace ifmesh
