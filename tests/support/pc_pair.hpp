#pragma once
// Two PeerConnections in one process, wired to each other directly (no signaling server): each
// side's trickled candidates go straight to the other. ICE gathers on 127.0.0.1 only.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "ifmesh/rtc/peer_connection.hpp"

namespace ifmesh::test {

inline RtcConfiguration loopbackConfig() {
  RtcConfiguration c;
  c.localAddresses = {"127.0.0.1"};
  return c;
}

// Waits for a predicate that other threads make true, notifying through `notify()`.
class Signal {
 public:
  // Changes shared state under the lock, then wakes the waiters.
  template <typename F>
  void update(F change) {
    {
      std::lock_guard lock(mutex_);
      change();
    }
    cv_.notify_all();
  }
  void notify() {
    update([] {});
  }
  template <typename Pred>
  bool waitFor(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, pred);
  }
  std::mutex& mutex() { return mutex_; }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
};

struct PcPair {
  explicit PcPair(RtcConfiguration a = loopbackConfig(), RtcConfiguration b = loopbackConfig())
      : offerer(std::make_unique<PeerConnection>(std::move(a))),
        answerer(std::make_unique<PeerConnection>(std::move(b))) {
    offerer->onLocalCandidate([this](const Candidate& c) { answerer->addRemoteCandidate(c); });
    answerer->onLocalCandidate([this](const Candidate& c) { offerer->addRemoteCandidate(c); });
    answerer->onDataChannel([this](std::shared_ptr<DataChannel> channel) {
      if (onRemoteChannel) onRemoteChannel(channel);
      signal.update([&] { remoteChannels.push_back(channel); });
    });
  }

  ~PcPair() {
    // Unhook the cross-references, then let one loop round pass so no callback is mid-flight.
    offerer->onLocalCandidate(nullptr);
    answerer->onLocalCandidate(nullptr);
    answerer->onDataChannel(nullptr);
    offerer->stats();
    offerer.reset();
    answerer.reset();
  }

  void negotiate() {
    Description offer = offerer->createOffer();
    answerer->setRemoteDescription(offer);
    Description answer = answerer->createAnswer();
    offerer->setRemoteDescription(answer);
  }

  bool waitConnected(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (offerer->state() == PeerConnectionState::Connected &&
          answerer->state() == PeerConnectionState::Connected)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }

  std::shared_ptr<DataChannel> waitRemoteChannel(std::size_t index = 0) {
    std::shared_ptr<DataChannel> out;
    signal.waitFor([&] {
      if (remoteChannels.size() > index) out = remoteChannels[index];
      return out != nullptr;
    });
    return out;
  }

  std::unique_ptr<PeerConnection> offerer;
  std::unique_ptr<PeerConnection> answerer;
  std::function<void(std::shared_ptr<DataChannel>)> onRemoteChannel;  // set before negotiate()
  Signal signal;
  std::vector<std::shared_ptr<DataChannel>> remoteChannels;
};

// Polls `pred` until it holds (true) or the timeout passes (false).
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll = std::chrono::milliseconds(2)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(poll);
  }
  return true;
}

// Blocks until the channel is open (true) or the timeout passes (false).
inline bool waitOpen(DataChannel& channel,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  return eventually([&] { return channel.isOpen(); }, timeout, std::chrono::milliseconds(1));
}

}  // namespace ifmesh::test
