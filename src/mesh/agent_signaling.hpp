#pragma once
// An agent's signaling client, and the bridge from the client's thread to the agent's loop.
//
// Threading: the client calls back on the process-wide signaling thread (signaling.hpp), also
// while the agent that owns this is being destroyed, and after close() for events already under
// way. Those callbacks touch nothing of the agent: each posts its event to the agent's loop,
// which outlives every agent, holding only a weak pointer to the SignalingEvents. On the loop
// thread the pointer is locked and the event dropped unless listening() is still true. start()
// and close() run on the user's thread; send() on the loop thread, between them.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ifmesh/agent.hpp"
#include "ifmesh/signaling.hpp"
#include "mesh/peer_signal.hpp"
#include "rtc/io_loop.hpp"

namespace ifmesh::detail {

// What the signaling server tells an agent: called on the agent's loop thread, in the order the
// client reported it (an agent's key before the directory entry that names it), and only while
// listening() is true.
class SignalingEvents {
 public:
  virtual bool listening() const = 0;  // false once the agent shut down
  virtual void keyAnnounced(const std::string& agentId, const std::string& key) = 0;
  virtual void registered(const std::vector<std::string>& directory) = 0;  // without us
  virtual void agentJoined(const std::string& agentId) = 0;
  virtual void agentLeft(const std::string& agentId) = 0;
  virtual void peerSignal(const std::string& from, const PeerSignal& signal) = 0;
  virtual void signalingError(const std::string& code, const std::string& message) = 0;
  virtual void signalingDisconnected() = 0;

 protected:
  ~SignalingEvents() = default;
};

class AgentSignaling {
 public:
  explicit AgentSignaling(rtc::IoLoop& loop) : loop_(loop) {}

  // Connects to config.signalingUrl as config.agentId, announcing `publicKey`, and reports to
  // `events` from then on. Once.
  void start(const AgentConfig& config, const std::string& publicKey,
             std::weak_ptr<SignalingEvents> events);
  // Relays a message to a peer's agent (queued until registered); nothing before start() or
  // after close().
  void send(const std::string& to, const std::string& type, nlohmann::json body);
  // Disconnects and drops the client. Callbacks under way may still post; listening() (false
  // by then) stops their events.
  void close();

 private:
  rtc::IoLoop& loop_;
  std::unique_ptr<signaling::Client> client_;
};

}  // namespace ifmesh::detail
