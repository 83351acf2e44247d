#pragma once
// Shared pieces of the agent tests: a signaling server on 127.0.0.1, agent configs for it, and
// a receiver that records what arrives.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ifmesh/agent.hpp"
#include "ifmesh/signaling.hpp"

namespace ifmesh::test {

using namespace std::chrono_literals;

inline std::unique_ptr<signaling::Server> startSignaling() {
  signaling::ServerConfig c;
  c.port = 0;
  auto s = std::make_unique<signaling::Server>(c);
  s->start();
  return s;
}

inline AgentConfig meshAgentConfig(const std::string& id, const signaling::Server& server) {
  AgentConfig c;
  c.agentId = id;
  c.signalingUrl = "ws://127.0.0.1:" + std::to_string(server.port());
  c.localAddresses = {"127.0.0.1"};
  c.healing.initialDelay = 50ms;
  c.healing.maxDelay = 300ms;
  c.healing.attemptTimeout = 1s;
  c.healing.maxRetries = 100;
  return c;
}

template <typename Pred>
bool waitFor(Pred pred, std::chrono::milliseconds timeout = 20s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

struct Inbox {
  std::mutex mutex;
  std::vector<IFMessage> messages;
  void attach(Agent& agent) {
    agent.onMessage([this](const IFMessage& m) {
      std::lock_guard lock(mutex);
      messages.push_back(m);
    });
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return messages.size();
  }
  // The payloads' "n" in arrival order.
  std::vector<int> numbers() {
    std::lock_guard lock(mutex);
    std::vector<int> out;
    for (const auto& m : messages) out.push_back(m.payload.value("n", -1));
    return out;
  }
};

inline IFMessage numbered(int n, MessagePriority p = MessagePriority::Normal,
                          bool droppable = false) {
  IFMessage m;
  m.payload = {{"n", n}};
  m.priority = p;
  m.droppable = droppable;
  return m;
}

}  // namespace ifmesh::test
