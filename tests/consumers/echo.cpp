// A program built against an installed ifmesh, using only its public headers and API: a
// PeerConnection pair echoes a DataChannel message, then an Agent pair echoes an IFMessage
// through an in-process signaling server. Everything runs on 127.0.0.1. Exits 0 when both
// echoes come back, 1 otherwise; scripts/test-consumers.sh builds it both ways (find_package
// and pkg-config) and runs it.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "ifmesh/agent.hpp"
#include "ifmesh/ifmesh.hpp"
#include "ifmesh/signaling.hpp"

namespace {

using namespace std::chrono_literals;

// One value handed from a callback (an I/O thread) to the main thread.
template <typename T>
class Mailbox {
 public:
  void put(T value) {
    {
      std::lock_guard lock(mutex_);
      value_ = std::move(value);
    }
    cv_.notify_all();
  }
  std::optional<T> take(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return value_.has_value(); });
    return value_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::optional<T> value_;
};

bool peerConnectionEcho() {
  // Declared before the connections, so they outlive every callback.
  Mailbox<bool> opened;
  Mailbox<std::string> echoed;
  ifmesh::RtcConfiguration config;
  config.localAddresses = {"127.0.0.1"};
  auto offerer = std::make_unique<ifmesh::PeerConnection>(config);
  auto answerer = std::make_unique<ifmesh::PeerConnection>(config);
  offerer->onLocalCandidate([&](const ifmesh::Candidate& c) { answerer->addRemoteCandidate(c); });
  answerer->onLocalCandidate([&](const ifmesh::Candidate& c) { offerer->addRemoteCandidate(c); });

  // The answerer sends every message back on the channel it arrived on.
  std::mutex channelsMutex;
  std::shared_ptr<ifmesh::DataChannel> remote;
  answerer->onDataChannel([&](std::shared_ptr<ifmesh::DataChannel> channel) {
    std::weak_ptr<ifmesh::DataChannel> weak = channel;
    channel->onMessage([weak](ifmesh::Message&& message) {
      if (auto c = weak.lock()) c->send(std::get<std::string>(message));
    });
    std::lock_guard lock(channelsMutex);
    remote = std::move(channel);
  });

  auto channel = offerer->createDataChannel("echo");
  channel->onOpen([&] { opened.put(true); });
  channel->onMessage([&](ifmesh::Message&& message) {
    if (auto* text = std::get_if<std::string>(&message)) echoed.put(*text);
  });

  answerer->setRemoteDescription(offerer->createOffer());
  offerer->setRemoteDescription(answerer->createAnswer());
  bool ok = false;
  if (!opened.take(20s)) {
    std::fprintf(stderr, "PeerConnection: the channel did not open\n");
  } else {
    channel->send(std::string("ping over a DataChannel"));
    auto reply = echoed.take(10s);
    ok = reply == "ping over a DataChannel";
    std::fprintf(ok ? stdout : stderr, "PeerConnection echo: %s\n",
                 reply ? reply->c_str() : "(nothing)");
  }
  // No callback may run once the objects it refers to are gone.
  offerer->onLocalCandidate(nullptr);
  answerer->onLocalCandidate(nullptr);
  answerer->onDataChannel(nullptr);
  channel->onMessage(nullptr);
  channel->onOpen(nullptr);
  offerer.reset();
  answerer.reset();
  return ok;
}

bool agentEcho() {
  ifmesh::signaling::ServerConfig serverConfig;
  serverConfig.port = 0;  // any free port on 127.0.0.1
  ifmesh::signaling::Server server(serverConfig);
  server.start();

  auto agentConfig = [&](const std::string& id) {
    ifmesh::AgentConfig c;
    c.agentId = id;
    c.signalingUrl = "ws://127.0.0.1:" + std::to_string(server.port());
    c.localAddresses = {"127.0.0.1"};
    return c;
  };
  // Declared before the agents, so they outlive every callback.
  Mailbox<bool> connected;
  Mailbox<ifmesh::IFMessage> echoed;
  bool ok = false;
  {
    ifmesh::Agent alice(agentConfig("alice")), bob(agentConfig("bob"));
    // Bob answers every message with its payload, back to where it came from.
    bob.onMessage([&bob](const ifmesh::IFMessage& message) {
      ifmesh::IFMessage reply;
      reply.payload = message.payload;
      bob.send(message.source, std::move(reply));
    });
    alice.onMessage([&](const ifmesh::IFMessage& message) { echoed.put(message); });
    alice.onPeerState([&](const std::string& peer, ifmesh::PeerState state) {
      if (peer == "bob" && state == ifmesh::PeerState::Connected) connected.put(true);
    });
    alice.connectToSignaling();
    bob.connectToSignaling();
    ifmesh::RegistrationResult registered = alice.waitRegistered(10s);
    if (registered) registered = bob.waitRegistered(10s);
    if (!registered) {
      std::fprintf(stderr, "Agent: not registered with the signaling server: %s: %s\n",
                   registered.code.c_str(), registered.message.c_str());
    } else {
      alice.connect("bob");
      if (!connected.take(30s)) {
        std::fprintf(stderr, "Agent: no link to bob\n");
      } else {
        ifmesh::IFMessage message;
        message.payload = {{"text", "ping over an Agent link"}};
        alice.send("bob", message);
        auto reply = echoed.take(10s);
        ok = reply && reply->source == "bob" &&
             reply->payload.value("text", "") == "ping over an Agent link";
        std::fprintf(ok ? stdout : stderr, "Agent echo: %s\n",
                     reply ? ifmesh::serialize(*reply).c_str() : "(nothing)");
      }
    }
    bob.onMessage(nullptr);
    alice.onMessage(nullptr);
    alice.onPeerState(nullptr);
  }
  server.stop();
  return ok;
}

}  // namespace

int main() {
  // The library's own diagnostics, in this program's words.
  ifmesh::setLogHandler(
      ifmesh::LogLevel::Warning,
      [](ifmesh::LogLevel level, std::string_view component, std::string_view message) {
        std::fprintf(stderr, "echo: ifmesh %s %.*s: %.*s\n", ifmesh::toString(level),
                     static_cast<int>(component.size()), component.data(),
                     static_cast<int>(message.size()), message.data());
      });
  try {
    bool pc = peerConnectionEcho();
    bool agent = agentEcho();
    return pc && agent ? 0 : 1;
  } catch (const ifmesh::Error& e) {
    std::fprintf(stderr, "ifmesh::Error: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "exception: %s\n", e.what());
  }
  return 1;
}
