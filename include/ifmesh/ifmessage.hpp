#pragma once
// IFMessage: the unit agents exchange (the original design's schema, version "2.1").
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ifmesh/export.hpp"

namespace ifmesh {

// Control and High messages overtake queued Normal and Low ones on every link. Each priority is
// its own ordering lane: delivery is exactly once and in order per (source, destination,
// priority), not across priorities.
enum class MessagePriority { Control = 0, High = 1, Normal = 2, Low = 3 };
constexpr int kMessagePriorities = 4;
IFMESH_API const char* toString(MessagePriority priority) noexcept;
// The priority toString names ("control", "high", "normal", "low"), or nothing.
IFMESH_API std::optional<MessagePriority> priorityFromString(std::string_view name) noexcept;
inline bool isUrgent(MessagePriority p) {
  return p == MessagePriority::Control || p == MessagePriority::High;
}

struct IFMessage {
  std::string id;         // filled by Agent::send when empty
  std::string timestamp;  // ISO 8601 UTC; filled when empty
  int level = 2;          // 1 function->function, 2 module->module, ...
  std::string source;
  std::string destination;
  std::string version = "2.1";
  nlohmann::json payload = nlohmann::json::object();
  // The payload as the text of one JSON value, in place of `payload` when not empty: for a
  // sender that holds it as text already (a binding, a proxy), which spares building a tree.
  // Agent::send checks it (one value, strict UTF-8, nesting) and the link carries it as it is,
  // key order and all. A received message carries its payload here, with `payload` null, only
  // for an agent configured with AgentConfig::payloadAsText.
  std::string payloadJson;
  std::uint64_t sequence = 0;  // per (source, destination, priority), assigned by Agent::send
  std::string traceId;
  // On the wire as "priority" ("control" | "high" | "low"), omitted for Normal.
  MessagePriority priority = MessagePriority::Normal;
  // The source process's incarnation (random per Agent object), set by Agent::send; on the wire
  // as "incarnation", omitted when 0. Tells a restarted source's messages from replays.
  std::uint64_t incarnation = 0;
  // Base64 Ed25519 signature by the source over canonicalForm(); on the wire as "signature",
  // omitted when empty. Relays pass it on unchanged.
  std::string signature;
  // Local send option, not on the wire: with QueuePolicy::DropOldest a full queue may drop this
  // message (reported through onUndeliverable) to make room for newer ones.
  bool droppable = false;
};

IFMESH_API std::string newMessageId();  // UUID v4
// The payload as a value: payloadJson parsed when set (Error(InvalidArgument) for text that is
// not JSON), else a copy of payload.
IFMESH_API nlohmann::json payloadValue(const IFMessage& message);
IFMESH_API nlohmann::json toJson(const IFMessage& message);
IFMESH_API std::string serialize(const IFMessage& message);
// What the source signs: the compact JSON array
//   ["ifmesh-msg-v1", id, timestamp, level, source, destination, version, sequence_num,
//    priority name, trace_id, incarnation, payload]
// (payload object keys sorted, as nlohmann::json always dumps them; a payloadJson is parsed
// first). Independent of the order of the message's fields and payload keys on the wire, and
// of the signature itself.
IFMESH_API std::string canonicalForm(const IFMessage& message);
// Throws ifmesh::Error(InvalidArgument / MessageTooLarge) with the reason; never anything else.
// JSON nested deeper than 100 levels is rejected (InvalidArgument).
IFMESH_API IFMessage ifmessageFromJson(std::string_view text, std::size_t maxBytes = 1 << 20);
// The same checks on JSON already parsed; the rvalue overload moves strings and payload.
IFMESH_API IFMessage ifmessageFromJsonValue(const nlohmann::json& value);
IFMESH_API IFMessage ifmessageFromJsonValue(nlohmann::json&& value);

}  // namespace ifmesh
