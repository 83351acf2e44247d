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
  static void setHelloFingerprint(Agent& agent, const std::string& fingerprint) {
    auto& c = core(agent);
    c.loop().invoke([&] { c.testHooks.helloFingerprint = fingerprint; });
  }
};

}  // namespace ifmesh::detail
