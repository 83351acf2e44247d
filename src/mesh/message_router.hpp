#pragma once
// Where a message goes (docs/link-protocol.md, forwarding). A message taken off a link is
// delivered when it is addressed to us and passes its signature and replay checks, or handed one
// hop closer to its destination over the graph the directory implies. A forward that cannot be
// taken now (the next hop's queue is full, or the destination is not in the directory yet) is
// held with the neighbour it came from (ForwardHolds) until that neighbour may resend it.
// Sans-IO: links, keys, the timer and every outcome are behind RouterHost.
//
// Threading: loop thread only (the agent's I/O loop), like the RouterHost it calls. The host
// runs inside the router's calls and may call back into it from there (a link whose queue
// shrinks while it takes a message asks for held forwards to resume).
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ifmesh/agent.hpp"
#include "ifmesh/identity.hpp"
#include "ifmesh/ifmessage.hpp"
#include "mesh/forward_holds.hpp"
#include "mesh/mesh_routes.hpp"
#include "mesh/replay_guard.hpp"

namespace ifmesh::detail {

// What a MessageRouter needs from its agent: the links it hands messages to, the keys it checks
// signatures with, a timer, and where outcomes go.
class RouterHost {
 public:
  using Clock = std::chrono::steady_clock;
  // The state of our link to `peerId`, or nothing when there is none.
  virtual std::optional<PeerState> linkState(const std::string& peerId) const = 0;
  // Queues `message` on the link to `hop`, made and started on demand. As PeerLink::enqueue:
  // throws for a local message (hops 0) that cannot be taken, false for a forward that does not
  // fit now.
  virtual bool enqueue(const std::string& hop, const IFMessage& message, int hops) = 0;
  // Whether a forward held back for `hop` may be retried (true when there is no link to it).
  virtual bool hasRoomToForward(const std::string& hop) const = 0;
  // Asks the neighbour `upstream` to resend what it left unacknowledged with us.
  virtual void resumeReceiving(const std::string& upstream) = 0;
  // The key the directory announced for an agent, or null.
  virtual const PublicKey* peerKey(const std::string& agentId) const = 0;
  virtual void deliver(const IFMessage& message) = 0;  // to the user
  virtual void undeliverable(const IFMessage& message, const std::string& reason) = 0;
  virtual void witness(const char* event, const std::string& peerId,
                       nlohmann::json metadata = {}) = 0;
  virtual bool witnessing() const = 0;
  // Calls MessageRouter::resumeHeld(false) at `due`, replacing the previous request; nothing:
  // cancels it.
  virtual void wakeRouterAt(std::optional<Clock::time_point> due) = 0;

 protected:
  ~RouterHost() = default;
};

class MessageRouter {
 public:
  // How long a forward toward an id missing from the directory waits for it to join.
  static constexpr std::chrono::milliseconds kUnknownDestinationGrace{2000};
  // Uses the agent's id, topology and identity settings from `config`.
  MessageRouter(RouterHost& host, const AgentConfig& config,
                std::chrono::milliseconds unknownDestinationGrace = kUnknownDestinationGrace);

  // The agents the signaling server announced, without us.
  const std::set<std::string>& directory() const { return directory_; }
  void setDirectory(const std::vector<std::string>& agents);
  void joined(const std::string& agentId);
  void left(const std::string& agentId);

  // The neighbour a message for `destination` goes to: the destination itself over a usable
  // link, else the first step of the topology's route.
  std::string nextHop(const std::string& destination);
  // Hands a message to its next hop (hops: agents that forwarded it so far); an unreachable hop
  // makes it undeliverable. False when a forward does not fit the hop's queue now; a local
  // message that cannot be taken throws (see RouterHost::enqueue).
  bool route(const IFMessage& message, int hops);
  // A message taken off the link to `fromPeer`: delivered, forwarded, or rejected (witnessed).
  // False when it is held: the link leaves it unacknowledged, and its sender is asked to resend
  // once the wait is over.
  bool receive(const IFMessage& message, int hops, const std::string& fromPeer);
  // Asks the upstreams whose wait is over to resend (directoryChanged: also those waiting for a
  // destination to join).
  void resumeHeld(bool directoryChanged);
  std::size_t held() const { return holds_.size(); }
  ReplayGuard& replayGuard() { return replayGuard_; }

 private:
  // nullptr when a message addressed to us may be delivered, else why not.
  const char* authenticate(const IFMessage& message, int hops);
  // Remembers that `upstream` waits for room on `hop` (empty: for the destination to join).
  void hold(const std::string& upstream, const std::string& hop, const IFMessage& message);

  RouterHost& host_;
  std::string self_;
  MessageSignatures signatures_;
  std::set<std::string> directory_;
  MeshRoutes routes_;
  ForwardHolds holds_;       // forwarding backpressure: which upstreams wait, and for what
  ReplayGuard replayGuard_;  // what was delivered, per source
};

}  // namespace ifmesh::detail
