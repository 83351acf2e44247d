#pragma once
// The messages one link holds for its neighbour, one lane per priority. A message first waits
// (no link sequence yet, so it can still be overtaken or dropped), then is sent with the next
// link sequence of its lane and kept until the neighbour acknowledges it. No I/O: PeerLink
// decides when to send. A held message keeps its payload only as JSON text (inside `json`): a
// payload tree costs several times its text in memory, and copying and freeing it per message
// was a large part of a send; the messages handed back out (dropFor, takeAll) get it back.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ifmesh/bandwidth.hpp"
#include "ifmesh/error.hpp"
#include "ifmesh/ifmessage.hpp"
#include "lazy_deque.hpp"
#include "mesh/ack_notice.hpp"

namespace ifmesh::detail {

class SendQueue {
 public:
  struct Waiting {
    IFMessage message;  // without its payload
    std::string json;   // the serialized IFMessage, payload included
    int hops = 0;
    std::uint64_t order = 0;  // arrival order over all lanes
    std::uint64_t key = 0;    // its outbox entry in the agent's state store (0: none)
    // Told when the neighbour acknowledges it or when it is dropped (may be empty: then nobody
    // waits for the acknowledgement).
    AckNotice acked;
    // Not sent before its outbox entry is durable (release()): a peer must never hold a message
    // that a restarted sender has forgotten and would number again.
    bool held = false;
    // Resumed from the state store: the neighbour may have it already (see acknowledge).
    bool resumed = false;
  };
  struct Sent {
    std::uint64_t seq;
    std::string json;   // the serialized IFMessage, payload included
    IFMessage message;  // without its payload
    int hops = 0;
    std::uint64_t key = 0;
    AckNotice acked;
    // Its frame asks for a prompt acknowledgement: somebody waits for it.
    bool ackRequested() const { return acked != nullptr; }
  };

  std::size_t messages() const { return messages_; }
  std::size_t bytes() const { return bytes_; }
  std::size_t waitingBytes() const { return waitingBytes_; }
  std::size_t waitingMessages() const;

  // Whether one more message of `bytes` fits under the limits.
  bool fits(std::size_t bytes, const BandwidthConfig::Queue& limits) const;
  // Removes the oldest droppable waiting messages that make room for one of `bytes` and returns
  // them (their keys appended to `keys`); nothing is removed (and nothing returned) when
  // dropping all of them would not suffice.
  std::vector<IFMessage> dropFor(std::size_t bytes, const BandwidthConfig::Queue& limits,
                                 std::vector<std::uint64_t>* keys = nullptr);

  // Queues `message`, whose serialized form is `json`; its payload is not copied.
  void push(const IFMessage& message, std::string json, int hops, std::uint64_t key = 0,
            AckNotice acked = nullptr, bool held = false);
  // The arrival order the next message pushed gets.
  std::uint64_t nextOrder() const { return nextOrder_; }
  // Every held message pushed before `order` (nextOrder() then) may be sent now.
  void release(std::uint64_t order);
  // The highest-priority lane with a waiting message that is not held (urgentOnly: Control and
  // High only).
  std::optional<int> nextLane(bool urgentOnly) const;
  // The lane's first waiting message (there must be one).
  const Waiting& waitingFront(int lane) const { return lanes_[lane].waiting.front(); }
  // Takes the lane's first waiting message out of the queue unsent, its payload back, failing
  // whoever waits for its acknowledgement with `error`.
  IFMessage takeNext(int lane, const Error& error, std::uint64_t* key);
  // Takes the lane's first waiting message and records it as sent with the lane's next link
  // sequence (the caller builds its frame).
  const Sent& send(int lane);
  // The neighbour waits for link sequence `after` + 1 in `lane` (a restarted neighbour: 1 in
  // every lane): the lane's sent messages are numbered from there, in order, and the lane
  // continues after them.
  void renumber(int lane, std::uint64_t after);
  // Cumulative acknowledgement of a lane; returns how many messages it released (their keys
  // appended to `keys`). An acknowledgement beyond what was sent releases resumed messages it
  // covers: the process before sent them with those sequences, and the neighbour has them.
  std::size_t acknowledge(int lane, std::uint64_t seq, std::vector<std::uint64_t>* keys = nullptr);
  const LazyDeque<Sent>& sent(int lane) const { return lanes_[lane].sent; }
  // The lane's last link sequence the neighbour acknowledged.
  std::uint64_t acknowledged(int lane) const {
    return lanes_[lane].nextSeq - 1 - lanes_[lane].sent.size();
  }
  // A lane of a queue resumed from the state store: its messages (pushed in order, all waiting)
  // are sent with the link sequences that follow `acknowledged`, the ones they had before.
  void resume(int lane, std::uint64_t acknowledged) {
    lanes_[lane].nextSeq = acknowledged + 1 + lanes_[lane].sent.size();
  }
  void pushResumed(const IFMessage& message, std::string json, int hops, std::uint64_t key) {
    const int lane = static_cast<int>(message.priority);
    push(message, std::move(json), hops, key);
    lanes_[lane].waiting.back().resumed = true;
  }
  // Everything held, in lane then arrival order (for failing them all, for `reason`; keys to
  // `keys`).
  std::vector<IFMessage> takeAll(const std::string& reason,
                                 std::vector<std::uint64_t>* keys = nullptr);

 private:
  struct Lane {
    LazyDeque<Waiting> waiting;
    LazyDeque<Sent> sent;
    std::uint64_t nextSeq = 1;
  };
  std::array<Lane, kMessagePriorities> lanes_;
  std::size_t messages_ = 0, bytes_ = 0, waitingBytes_ = 0;
  std::uint64_t nextOrder_ = 0;
};

}  // namespace ifmesh::detail
