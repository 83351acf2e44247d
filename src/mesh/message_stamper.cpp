#include "mesh/message_stamper.hpp"

#include "ifmesh/error.hpp"
#include "ifmesh/witness.hpp"
#include "mesh/replay_guard.hpp"

namespace ifmesh::detail {

MessageStamper::MessageStamper(const AgentConfig& config, const AgentIdentity& identity,
                               std::uint64_t incarnation)
    : self_(config.agentId),
      identity_(identity),
      signatures_(config.identity.messageSignatures),
      maxClockSkew_(config.identity.maxClockSkew),
      incarnation_(incarnation) {}

void MessageStamper::stamp(IFMessage& message, const std::string& destination, bool relayed) {
  message.source = self_;
  message.destination = destination;
  if (message.id.empty()) message.id = newMessageId();
  if (message.timestamp.empty()) {
    message.timestamp = isoTimestampNow();
  } else {
    // The receiver would reject it (stale_timestamp) after we had accepted it: refuse it now.
    auto ts = parseIsoTimestampMs(message.timestamp);
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    if (!ts || *ts < now - maxClockSkew_.count() || *ts > now + maxClockSkew_.count())
      throw Error(Errc::InvalidArgument,
                  "timestamp '" + message.timestamp +
                      "' is not an ISO 8601 UTC time within identity.maxClockSkew of now");
  }
  message.incarnation = incarnation_;
  message.sequence = lastSequence_[{destination, static_cast<int>(message.priority)}] + 1;
  message.signature.clear();
  if (signatures_ == MessageSignatures::Always || relayed) {
    try {
      signMessage(message, identity_);
    } catch (const nlohmann::json::exception& e) {  // e.g. a payload string that is not UTF-8
      throw Error(Errc::InvalidArgument, std::string("payload cannot be serialized: ") + e.what());
    }
  }
}

void MessageStamper::sent(const IFMessage& message) {
  lastSequence_[{message.destination, static_cast<int>(message.priority)}] = message.sequence;
}

}  // namespace ifmesh::detail
