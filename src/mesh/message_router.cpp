#include "mesh/message_router.hpp"

#include "ifmesh/error.hpp"

namespace ifmesh::detail {

MessageRouter::MessageRouter(RouterHost& host, const AgentConfig& config,
                             std::chrono::milliseconds unknownDestinationGrace)
    : host_(host),
      self_(config.agentId),
      signatures_(config.identity.messageSignatures),
      routes_(config.topology, config.agentId, config.partialMeshK, config.hubId),
      holds_(unknownDestinationGrace),
      replayGuard_(config.identity.maxClockSkew) {}

void MessageRouter::setDirectory(const std::vector<std::string>& agents) {
  directory_ = {agents.begin(), agents.end()};
  directory_.erase(self_);
  routes_.directoryChanged();
}

void MessageRouter::joined(const std::string& agentId) {
  directory_.insert(agentId);
  routes_.directoryChanged();
}

void MessageRouter::left(const std::string& agentId) {
  directory_.erase(agentId);
  routes_.directoryChanged();
}

std::string MessageRouter::nextHop(const std::string& destination) {
  if (auto state = host_.linkState(destination);
      state && *state != PeerState::Unreachable && *state != PeerState::Disconnected)
    return destination;
  return routes_.nextHop(destination, directory_);
}

bool MessageRouter::route(const IFMessage& message, int hops) {
  std::string hop = nextHop(message.destination);
  if (host_.linkState(hop) == PeerState::Unreachable) {
    host_.undeliverable(message, "peer is unreachable");
    return true;
  }
  return host_.enqueue(hop, message, hops);
}

bool MessageRouter::receive(const IFMessage& message, int hops, const std::string& fromPeer) {
  constexpr int kMaxHops = 16;
  if (message.destination == self_) {
    // Forgeries, tampering and replays stop here. End-to-end duplicates (a relay that crashed
    // after forwarding and forwarded again) are indistinguishable from replays and count as one.
    if (const char* reason = authenticate(message, hops)) {
      host_.witness("ifmessage_rejected", fromPeer,
                    {{"reason", reason},
                     {"message_id", message.id},
                     {"source", message.source},
                     {"sequence_num", message.sequence},
                     {"priority", toString(message.priority)},
                     {"hops", hops}});
      return true;
    }
    if (host_.witnessing())
      host_.witness("ifmessage_received", message.source,
                    {{"message_id", message.id},
                     {"sequence_num", message.sequence},
                     {"priority", toString(message.priority)},
                     {"hops", hops},
                     {"via", fromPeer}});
    host_.deliver(message);
    return true;
  }
  if (hops + 1 > kMaxHops) {
    host_.witness("ifmessage_rejected", fromPeer,
                  {{"reason", "hop limit reached"}, {"message_id", message.id}});
    return true;
  }
  // A relay forwards only toward agents the directory knows (or it is already linked to): a peer
  // must not make it open connections to any name it invents. A destination that joined an
  // instant ago may reach the sender's directory first, so the message waits a grace period
  // for ours before it is refused.
  if (!directory_.count(message.destination) && !host_.linkState(message.destination)) {
    if (!holds_.refusesUnknown(fromPeer)) {
      hold(fromPeer, "", message);
      return false;
    }
    host_.witness("ifmessage_rejected", fromPeer,
                  {{"reason", "unknown destination"}, {"message_id", message.id}});
    return true;
  }
  holds_.destinationKnown(fromPeer);
  try {
    if (!route(message, hops + 1)) {
      hold(fromPeer, nextHop(message.destination), message);
      return false;
    }
  } catch (const Error& e) {
    host_.witness("message_undeliverable", message.destination,
                  {{"message_id", message.id}, {"reason", e.what()}});
  }
  return true;
}

const char* MessageRouter::authenticate(const IFMessage& message, int hops) {
  // hops == 0: the link already checked that the source is the authenticated peer it came from.
  bool required = hops > 0 || signatures_ == MessageSignatures::Always;
  if (required || !message.signature.empty()) {
    const PublicKey* key = host_.peerKey(message.source);
    if (!key) return "unknown_source_key";
    if (message.signature.empty()) return "missing_signature";
    if (!verifyMessage(message, *key)) return "bad_signature";
  }
  // Only after the signature: a forgery must not move the replay state.
  return replayGuard_.admit(message, std::chrono::system_clock::now());
}

void MessageRouter::hold(const std::string& upstream, const std::string& hop,
                         const IFMessage& message) {
  if (!holds_.hold(upstream, hop, RouterHost::Clock::now())) return;  // witnessed already
  host_.witness("forward_held", upstream,
                {{"message_id", message.id},
                 {"destination", message.destination},
                 {"reason", hop.empty() ? "destination not in the directory yet"
                                        : "queue toward " + hop + " is full"}});
  host_.wakeRouterAt(holds_.nextDeadline());
}

void MessageRouter::resumeHeld(bool directoryChanged) {
  auto hasRoom = [this](const std::string& hop) { return host_.hasRoomToForward(hop); };
  for (const auto& upstream : holds_.release(RouterHost::Clock::now(), directoryChanged, hasRoom))
    host_.resumeReceiving(upstream);
  host_.wakeRouterAt(holds_.nextDeadline());
}

}  // namespace ifmesh::detail
