#pragma once
// What an agent writes into each message it originates (docs/identity.md): source, destination,
// a message id and a timestamp unless the caller set them (a caller's timestamp must lie within
// identity.maxClockSkew of now, or the receiver would reject it), the agent's incarnation, the
// end-to-end sequence number of the message's (destination, priority lane), and its signature. A
// lane's number is used up only by a message that was accepted (sent()), so a refused send
// leaves no gap. Sans-IO: loop thread only, like the agent that owns it.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "ifmesh/agent.hpp"
#include "ifmesh/identity.hpp"
#include "ifmesh/ifmessage.hpp"

namespace ifmesh::detail {

class MessageStamper {
 public:
  // `identity` must outlive the stamper.
  MessageStamper(const AgentConfig& config, const AgentIdentity& identity,
                 std::uint64_t incarnation);

  // Stamps `message` for `destination`. relayed: its first hop is not its destination, so it is
  // signed whatever identity.messageSignatures says. Throws Error(InvalidArgument) for a
  // timestamp out of range or a payload that cannot be serialized.
  void stamp(IFMessage& message, const std::string& destination, bool relayed);
  // `message`, stamped, was accepted: the next one in its lane gets the next number.
  void sent(const IFMessage& message);
  std::uint64_t last(const std::string& destination, int lane) const {
    auto it = lastSequence_.find({destination, lane});
    return it == lastSequence_.end() ? 0 : it->second;
  }
  // A state store's numbers, from before this process started: lanes continue after them.
  void resume(const std::string& destination, int lane, std::uint64_t last) {
    lastSequence_[{destination, lane}] = last;
  }

 private:
  std::string self_;
  const AgentIdentity& identity_;
  MessageSignatures signatures_;
  std::chrono::milliseconds maxClockSkew_;
  std::uint64_t incarnation_;
  // The last number used, per (destination, priority lane).
  std::map<std::pair<std::string, int>, std::uint64_t> lastSequence_;
};

}  // namespace ifmesh::detail
