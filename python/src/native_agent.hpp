#pragma once
// The C++ Agent as the Python package drives it. Nothing here takes the GIL: the agent's threads
// queue events and signal an eventfd that the asyncio loop watches (loop.add_reader), and sends
// are queued and handed to the agent's I/O thread in batches (under QueuePolicy::Block, to a
// sender thread of the binding's, which may wait for queue room), so a Python caller never waits
// for either thread and neither waits for Python.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "event_queue.hpp"
#include "ifmesh/agent.hpp"

namespace ifmesh::python {

struct SendRequest {
  std::uint64_t token = 0;
  std::string to;
  std::string payloadJson;
  int priority = static_cast<int>(MessagePriority::Normal);
  std::string traceId;
  bool droppable = false;
  bool waitForAck = true;
};

class NativeAgent {
 public:
  // Throws ifmesh::Error for a configuration the agent refuses, Error(Io) for a journal that
  // cannot be opened. With a journal (store/message_journal.hpp), every delivered message is
  // appended to it before the agent acknowledges it; with a state store too, a message journaled
  // before is not handed to Python again.
  explicit NativeAgent(AgentConfig config, const std::string& journalFile = "");
  ~NativeAgent();
  NativeAgent(const NativeAgent&) = delete;
  NativeAgent& operator=(const NativeAgent&) = delete;

  // Readable whenever events are waiting (an eventfd; valid until close()).
  int fileno() const { return eventFd_; }
  RegistrationResult start(std::chrono::milliseconds timeout);
  // Queues the send; its outcome arrives as an Accepted, Acknowledged or Failed event.
  void send(SendRequest request);
  std::vector<Event> takeEvents();
  void setWitnessEvents(bool on) { witnessEvents_->store(on); }

  const std::string& id() const { return id_; }
  std::vector<std::string> peers() const;
  std::optional<PeerState> peerState(const std::string& peer) const;
  std::size_t unacknowledged(const std::string& peer) const;
  std::uint64_t lastSequence(const std::string& peer, int priority) const;
  QualityMode qualityMode() const;
  BandwidthStats stats() const;
  bool isRegistered() const;
  void connect(const std::string& peer);
  void disconnect(const std::string& peer);
  void dropConnection(const std::string& peer);
  // Stops the agent (it says bye to its peers) and its threads; idempotent.
  void close();
  bool closed() const { return !agent_; }

 private:
  struct Shared;
  Agent& agent() const;

  std::string id_;
  int eventFd_ = -1;
  std::shared_ptr<std::atomic<bool>> witnessEvents_ = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<Shared> shared_;
  std::unique_ptr<Agent> agent_;
  std::thread sender_;  // under QueuePolicy::Block: makes the sends, which may wait for room
};

}  // namespace ifmesh::python
