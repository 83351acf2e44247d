#pragma once
// Shared pieces of the agent tests: a signaling server on 127.0.0.1, agent configs for it, and
// a receiver that records what arrives.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ifmesh/agent.hpp"
#include "ifmesh/signaling.hpp"
#include "ifmesh/witness.hpp"

namespace ifmesh::test {

using namespace std::chrono_literals;

// A fresh directory under the system's temporary one, named `prefix` and something unique, removed
// with everything in it when the test leaves its scope (also after a failed assertion).
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix)
      : path(std::filesystem::temp_directory_path() / (prefix + "-" + newTraceId())) {
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

// port 0: any free port; a fixed one lets a test restart the server where agents expect it.
inline std::unique_ptr<signaling::Server> startSignaling(std::uint16_t port = 0) {
  signaling::ServerConfig c;
  c.port = port;
  auto s = std::make_unique<signaling::Server>(c);
  s->start();
  return s;
}

// Healing for tests: short backoff and attempts, and never giving up within a test.
inline HealingConfig quickHealing() {
  HealingConfig h;
  h.initialDelay = 50ms;
  h.maxDelay = 300ms;
  h.attemptTimeout = 1s;
  h.maxRetries = 100;
  return h;
}

inline AgentConfig meshAgentConfig(const std::string& id, const signaling::Server& server,
                                   std::shared_ptr<Witness> witness = nullptr,
                                   const HealingConfig& healing = quickHealing()) {
  AgentConfig c;
  c.agentId = id;
  c.signalingUrl = "ws://127.0.0.1:" + std::to_string(server.port());
  c.localAddresses = {"127.0.0.1"};
  c.witness = std::move(witness);
  c.healing = healing;
  return c;
}

// Polls pred until it holds or timeout passes; a costly pred (one that reads a file) polls less.
template <typename Pred>
bool waitFor(Pred pred, std::chrono::milliseconds timeout = 20s,
             std::chrono::milliseconds poll = 2ms) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(poll);
  }
  return true;
}

// Every witness event of the agents given `witness`, for tests to count.
struct WitnessEvents {
  std::mutex mutex;
  std::vector<WitnessEvent> all;
  std::shared_ptr<Witness> witness = std::make_shared<Witness>();
  WitnessEvents() {
    witness->addSink(std::make_shared<CallbackWitnessSink>([this](const WitnessEvent& e) {
      std::lock_guard lock(mutex);
      all.push_back(e);
    }));
  }
  // Events named `event`.
  std::size_t count(const std::string& event) {
    std::lock_guard lock(mutex);
    return std::count_if(all.begin(), all.end(),
                         [&](const WitnessEvent& e) { return e.event == event; });
  }
  // Events of `agent` named `event` whose metadata reason is `reason`.
  std::size_t count(const std::string& agent, const std::string& event, const std::string& reason) {
    std::lock_guard lock(mutex);
    return std::count_if(all.begin(), all.end(), [&](const WitnessEvent& e) {
      return e.agentId == agent && e.event == event && e.metadata.value("reason", "") == reason;
    });
  }
};

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

// Registers both agents and links `from` to `to`; false when that does not happen in time.
inline bool registerAndLink(Agent& from, Agent& to) {
  from.connectToSignaling();
  to.connectToSignaling();
  if (!from.waitRegistered(5s) || !to.waitRegistered(5s)) return false;
  from.connect(to.id());
  return waitFor([&] { return from.peers().size() == 1; });
}

inline IFMessage numbered(int n, MessagePriority p = MessagePriority::Normal,
                          bool droppable = false) {
  IFMessage m;
  m.payload = {{"n", n}};
  m.priority = p;
  m.droppable = droppable;
  return m;
}

}  // namespace ifmesh::test
