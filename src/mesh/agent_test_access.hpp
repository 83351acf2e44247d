#pragma once
// Tests only: reach past the public API to put hand-made frames on a real link.
#include "ifmesh/agent.hpp"
#include "mesh/agent_core.hpp"

namespace ifmesh::detail {

struct AgentTestAccess {
  static AgentCore& core(Agent& agent) { return *agent.core_; }
  // Queues `message` exactly as given (source, signature and all) on the link to `neighbour`, as
  // if `hops` agents had forwarded it. The link must exist.
  static void inject(Agent& agent, const std::string& neighbour, const IFMessage& message,
                     int hops) {
    auto& c = core(agent);
    c.loop().invoke([&] { c.link(neighbour, false)->enqueue(message, hops); });
  }
  // Puts `frame` on the open channel to `neighbour` as it is, bypassing every check of ours.
  static void sendRawFrame(Agent& agent, const std::string& neighbour, const std::string& frame) {
    auto& c = core(agent);
    c.loop().invoke([&] { c.link(neighbour, false)->sendRaw(frame); });
  }
  // Messages accepted for `neighbour` and not yet acknowledged by it (0 without a link).
  static std::size_t unacknowledged(Agent& agent, const std::string& neighbour) {
    auto& c = core(agent);
    std::size_t n = 0;
    c.loop().invoke([&] {
      if (auto l = c.link(neighbour, false)) n = l->unacknowledged();
    });
    return n;
  }
  // A message from `agent` to `destination` as its own Agent::send would sign it, with the given
  // end-to-end sequence number, for a test to forward by hand.
  static IFMessage signedMessage(Agent& agent, const std::string& destination,
                                 std::uint64_t sequence, nlohmann::json payload) {
    auto& c = core(agent);
    IFMessage m;
    m.id = c.id() + "-" + std::to_string(sequence);
    m.source = c.id();
    m.destination = destination;
    m.timestamp = isoTimestampNow();
    m.sequence = sequence;
    m.incarnation = c.incarnation();
    m.payload = std::move(payload);
    signMessage(m, c.identity());
    return m;
  }
  static std::size_t knownKeys(Agent& agent) {
    auto& c = core(agent);
    std::size_t n = 0;
    c.loop().invoke([&] { n = c.knownKeys(); });
    return n;
  }
  static void setHelloFingerprint(Agent& agent, const std::string& fingerprint) {
    auto& c = core(agent);
    c.loop().invoke([&] { c.linkSettings_.helloFingerprint = fingerprint; });
  }
};

}  // namespace ifmesh::detail
