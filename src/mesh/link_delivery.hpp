#pragma once
// A link's delivery session (link_session.hpp) run over its current connection: feeds it what the
// channel receives and the time, sends what it produces, arms its timer, and reports its events
// to the agent (LinkHost) and, for the peer's proof of identity, to the link. Loop thread only.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "lazy_deque.hpp"
#include "mesh/channel_budget.hpp"
#include "mesh/durable_state.hpp"
#include "mesh/link_session.hpp"
#include "rtc/io_loop.hpp"

namespace ifmesh::detail {

class LinkConnection;
class LinkHost;

// With the agent's state store (LinkHost::durable), it resumes the link's stored counters and
// outbox, stores every message it queues and the counters after every change, and acknowledges
// what it delivered only once that is committed.
class LinkDelivery final : private DurableState::Listener {
 public:
  // authenticated(): the peer proved who it is on this connection; refused(reason): it did not.
  LinkDelivery(LinkHost& host, std::string peerId, std::function<void()> authenticated,
               std::function<void(const std::string& reason)> refused);
  ~LinkDelivery();
  LinkDelivery(const LinkDelivery&) = delete;
  LinkDelivery& operator=(const LinkDelivery&) = delete;

  // Runs the session over `connection` (when the channel opens or first speaks; once per
  // connection) until detach().
  void attach(LinkConnection& connection);
  void detach();

  void onText(const std::string& text);
  void onBinary(std::span<const std::byte> data);

  // See PeerLink::enqueue.
  bool enqueue(const IFMessage& message, int hops);
  void pump();
  void resumeReceiving();
  void closing();  // see link::Session::closing
  void failAll(const std::string& reason);

  std::size_t unacknowledged() const { return session_.unacknowledged(); }
  std::size_t queuedBytes() const { return session_.queuedBytes(); }
  std::size_t backlogBytes() const { return session_.backlogBytes(); }
  bool hasRoomToForward() const { return session_.hasRoomToForward(); }

 private:
  link::SessionConfig sessionConfig();
  // Batching and compression for the current quality mode, and the channel's budget.
  void configure();
  void drive();  // sends what the session produced and acts on its events
  void armTimer();
  void resumeStored();
  void unstore(const std::vector<std::uint64_t>& keys);
  void storeCounters();
  void committing(std::uint64_t commit) override;
  void committed(std::uint64_t commit) override;

  LinkHost& host_;
  std::string peerId_;
  std::function<void()> authenticated_;
  std::function<void(const std::string&)> refused_;
  link::Session session_;
  LinkConnection* connection_ = nullptr;
  // How much of the backlog the channel and SCTP may hold (channel_budget.hpp), and the part of
  // it Normal/Low messages may fill in the channel.
  ChannelBudget budget_;
  std::size_t channelLimit_ = 0;
  rtc::IoLoop::Timer timer_;
  std::optional<std::chrono::steady_clock::time_point> timerDue_;
  // Work due at once (a requested ack) runs in a task posted to the loop, after everything that
  // arrived in the same dispatch: one per link at a time, dropped with the link.
  bool tickPosted_ = false;
  // Frames held back for the host's gathering pass (LinkHost::gathering), until endGathering().
  bool gathered_ = false;
  void endGathering();
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  DurableState* durable_;
  link::Counters storedCounters_;
  // What each commit not yet durable holds of this link, oldest first.
  LazyDeque<std::pair<std::uint64_t, link::Session::CommitPoint>> commits_;
};

}  // namespace ifmesh::detail
