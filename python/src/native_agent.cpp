#include "native_agent.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <unordered_set>
#include <utility>

#include "ifmesh/error.hpp"
#include "json/json_reader.hpp"
#include "json/json_writer.hpp"
#include "mesh/message_header.hpp"
#include "store/message_journal.hpp"

namespace ifmesh::python {

namespace {

constexpr int kUndeliverable = -1;

}  // namespace

// What the agent's callbacks share with the binding.
struct NativeAgent::Shared {
  explicit Shared(int fd) : eventFd(fd) {}

  int eventFd;
  EventQueue events;
  Agent* agent = nullptr;     // set once the agent exists; valid while its threads run
  bool durableStore = false;  // the agent keeps its state in a directory

  std::mutex sendMutex;
  std::vector<SendRequest> sends;
  bool sendsPosted = false;
  // Under QueuePolicy::Block the sends run on the binding's sender thread, which may wait for
  // queue room; the I/O thread must not (its acknowledgements make the room).
  bool blocking = false;
  std::condition_variable sendsQueued;
  std::atomic<bool> stopping{false};  // close() began: outcomes are Python's (Closed) from here

  // Ids of our messages whose acknowledgement is awaited or failed: their failure is reported
  // through their send's outcome, not again through onUndeliverable.
  std::mutex awaitedMutex;
  std::unordered_set<std::string> awaited;

  void emit(Event event) {
    if (!events.push(std::move(event))) return;
    std::uint64_t one = 1;
    // Fails only when the counter would overflow, and then the reader is woken anyway.
    [[maybe_unused]] auto n = ::write(eventFd, &one, sizeof one);
  }

  void fail(std::uint64_t token, int code, std::string text) {
    Event e(Event::Kind::Failed);
    e.token = token;
    e.code = code;
    e.text = std::move(text);
    emit(std::move(e));
  }

  // A send's outcome (SendCallbacks, I/O thread): acknowledged (a send with ack) or durable (one
  // without); `messageId` is set for an acknowledgement.
  void finished(std::uint64_t token, std::uint64_t sequence, const std::string& messageId,
                std::exception_ptr error) {
    if (!error) {
      if (!messageId.empty()) {
        std::lock_guard lock(awaitedMutex);
        awaited.erase(messageId);
      }
      Event e(messageId.empty() ? Event::Kind::Accepted : Event::Kind::Acknowledged);
      e.token = token;
      e.sequence = sequence;
      emit(std::move(e));
      return;
    }
    try {
      std::rethrow_exception(error);
    } catch (const Error& e) {
      fail(token, e.code() == Errc::Undeliverable ? kUndeliverable : static_cast<int>(e.code()),
           e.what());
    } catch (const std::exception& e) {
      fail(token, static_cast<int>(Errc::Internal), e.what());
    }
  }

  // I/O thread: one batch of queued sends.
  void runSends() {
    std::vector<SendRequest> batch;
    {
      std::lock_guard lock(sendMutex);
      batch.swap(sends);
      sendsPosted = false;
    }
    for (auto& r : batch) sendOne(r);
  }

  // The sender thread (QueuePolicy::Block): sends in the order Python queued them, each one
  // waiting for room as long as the policy allows, until close() stops it.
  void runBlockingSends() {
    std::vector<SendRequest> batch;
    for (;;) {
      {
        std::unique_lock lock(sendMutex);
        sendsQueued.wait(lock, [&] { return stopping || !sends.empty(); });
        if (stopping) return;
        batch.swap(sends);
      }
      for (auto& r : batch) {
        if (stopping) return;
        sendOne(r);
      }
      batch.clear();
    }
  }

  // One send, its outcome reported as an event (I/O thread, or the sender thread under Block).
  void sendOne(SendRequest& r) {
    IFMessage m;
    m.id = newMessageId();
    // Spliced into the link frame as Python wrote it; the agent checks it is one JSON value.
    m.payloadJson = std::move(r.payloadJson);
    m.priority = static_cast<MessagePriority>(r.priority);
    m.traceId = std::move(r.traceId);
    m.droppable = r.droppable;
    // A send nobody waits on, without a state store, is plain Agent::send: its message lets
    // the peer acknowledge at its own pace, where one with an acknowledgement callback asks for
    // a prompt acknowledgement. With a store, the durable callback says when it is durable.
    const bool plain = !r.waitForAck && !durableStore;
    const std::uint64_t token = r.token;
    std::string id;
    if (r.waitForAck) {
      id = m.id;
      std::lock_guard lock(awaitedMutex);
      awaited.insert(id);  // before the send: its outcome may come before sendAsync returns
    }
    std::uint64_t sequence = 0;
    try {
      if (plain) {
        sequence = agent->send(r.to, std::move(m));
      } else {
        SendCallbacks callbacks;
        auto outcome = [this, token, id](std::uint64_t seq, std::exception_ptr error) {
          finished(token, seq, id, std::move(error));
        };
        if (r.waitForAck)
          callbacks.acknowledged = std::move(outcome);
        else
          callbacks.durable = std::move(outcome);
        agent->sendAsync(r.to, std::move(m), std::move(callbacks));
      }
    } catch (const Error& e) {
      forget(id);
      if (!stopping) fail(r.token, static_cast<int>(e.code()), e.what());
      return;
    } catch (const std::exception& e) {
      forget(id);
      if (!stopping) fail(r.token, static_cast<int>(Errc::Internal), e.what());
      return;
    }
    if (plain) {
      Event e(Event::Kind::Accepted);
      e.token = r.token;
      e.sequence = sequence;
      emit(std::move(e));
    }
  }

  void forget(const std::string& id) {
    if (id.empty()) return;
    std::lock_guard lock(awaitedMutex);
    awaited.erase(id);
  }

  // I/O thread: a message we sent will not be delivered. A send waiting for its
  // acknowledgement hears of it from its callback; another one of ours (token 0: Python only
  // logs it) from here. A message forwarded for another agent is not ours to report.
  void undeliverable(const IFMessage& m, const std::string& reason) {
    {
      std::lock_guard lock(awaitedMutex);
      if (awaited.erase(m.id) > 0) return;
    }
    if (m.source == agent->id()) fail(0, kUndeliverable, m.destination + ": " + reason);
  }
};

namespace {

// Hands witness events to Python once it asked for them (on_witness, witness_events); until
// then the agent builds no per-message events for it.
class SwitchedWitnessSink : public CallbackWitnessSink {
 public:
  SwitchedWitnessSink(std::function<void(const WitnessEvent&)> fn,
                      std::shared_ptr<std::atomic<bool>> on)
      : CallbackWitnessSink(std::move(fn)), on_(std::move(on)) {}
  void record(const WitnessEvent& w) override {
    if (on_->load()) CallbackWitnessSink::record(w);
  }
  bool wantsEvents() const override { return on_->load(); }

 private:
  std::shared_ptr<std::atomic<bool>> on_;
};

}  // namespace

NativeAgent::NativeAgent(AgentConfig config, const std::string& journalFile) : id_(config.agentId) {
  const bool durableStore = !config.state.directory.empty();
  const bool blocking = config.bandwidth.queue.policy == QueuePolicy::Block;
  // One line per delivered message, the IFMessage as the link carries it, journaled before the
  // agent acknowledges it (store/message_journal.hpp).
  std::shared_ptr<detail::store::MessageJournal> journal;
  if (!journalFile.empty())
    journal =
        std::make_shared<detail::store::MessageJournal>(journalFile, durableStore, "sequence_num");
  // Payloads cross to Python as JSON text, so the agent keeps received ones as text.
  config.payloadAsText = true;
  eventFd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (eventFd_ < 0) throw Error(Errc::Io, "eventfd failed");
  shared_ = std::make_shared<Shared>(eventFd_);
  if (!config.witness) config.witness = std::make_shared<Witness>();
  config.witness->addSink(std::make_shared<SwitchedWitnessSink>(
      [s = shared_](const WitnessEvent& w) {
        Event e(Event::Kind::Witness);
        e.witness = w;
        s->emit(std::move(e));
      },
      witnessEvents_));
  try {
    agent_ = std::make_unique<Agent>(std::move(config));
  } catch (...) {
    ::close(eventFd_);
    eventFd_ = -1;
    throw;
  }
  shared_->agent = agent_.get();
  shared_->durableStore = durableStore;
  shared_->blocking = blocking;
  auto s = shared_;
  agent_->onMessage([s, journal](const IFMessage& m) {
    // Journaled before this process started: Python saw it then, or reads it from there.
    if (journal && !journal->write(m, serialize(m))) return;
    Event e(Event::Kind::Message);
    e.message = detail::withoutPayload(m);
    // The payload travels to Python as text: as it came over the link (payloadAsText), or
    // serialized here, off the Python thread, for a message restored from a state store. Its
    // strings came from strictly checked JSON text, so they are valid UTF-8; should one not
    // be, it is replaced, never thrown.
    if (!m.payloadJson.empty()) {
      e.text = m.payloadJson;
    } else {
      try {
        e.text = detail::json::dump(m.payload);
      } catch (const nlohmann::json::type_error&) {
        e.text = m.payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      }
    }
    s->emit(std::move(e));
  });
  agent_->onUndeliverable(
      [s](const IFMessage& m, const std::string& reason) { s->undeliverable(m, reason); });
  agent_->onPeerState([s](const std::string& peer, PeerState state) {
    Event e(Event::Kind::PeerState);
    e.peer = peer;
    e.text = toString(state);
    s->emit(std::move(e));
  });
  agent_->onQualityChange([s](QualityMode from, QualityMode to) {
    Event e(Event::Kind::QualityChanged);
    e.text = toString(from);
    e.peer = toString(to);
    s->emit(std::move(e));
  });
  agent_->onSignalingError([s](const std::string& code, const std::string& message) {
    Event e(Event::Kind::SignalingError);
    e.peer = code;
    e.text = message;
    s->emit(std::move(e));
  });
  // Last: nothing after it may throw, or the constructor would leave a joinable thread behind.
  if (blocking) sender_ = std::thread([s] { s->runBlockingSends(); });
}

NativeAgent::~NativeAgent() {
  close();
}

Agent& NativeAgent::agent() const {
  if (!agent_) throw Error(Errc::InvalidState, "the agent is closed");
  return *agent_;
}

RegistrationResult NativeAgent::start(std::chrono::milliseconds timeout) {
  agent().connectToSignaling();
  return agent().waitRegistered(timeout);
}

void NativeAgent::send(SendRequest request) {
  Agent& a = agent();
  bool post = false;
  {
    std::lock_guard lock(shared_->sendMutex);
    shared_->sends.push_back(std::move(request));
    // One runSends posted at a time; under Block the sender thread takes them instead.
    post = !shared_->blocking && !std::exchange(shared_->sendsPosted, true);
  }
  if (shared_->blocking)
    shared_->sendsQueued.notify_one();
  else if (post)
    a.post([s = shared_] { s->runSends(); });
}

std::vector<Event> NativeAgent::takeEvents() {
  if (eventFd_ >= 0) {
    // Reset before taking, so an event queued after the take wakes the reader again.
    std::uint64_t count = 0;
    [[maybe_unused]] auto n = ::read(eventFd_, &count, sizeof count);
  }
  return shared_->events.take();
}

std::vector<std::string> NativeAgent::peers() const {
  return agent().peers();
}
std::optional<PeerState> NativeAgent::peerState(const std::string& peer) const {
  return agent().peerState(peer);
}
std::size_t NativeAgent::unacknowledged(const std::string& peer) const {
  return agent().unacknowledged(peer);
}
std::uint64_t NativeAgent::lastSequence(const std::string& peer, int priority) const {
  return agent().lastSequence(peer, static_cast<MessagePriority>(priority));
}
QualityMode NativeAgent::qualityMode() const {
  return agent().getQualityMode();
}
BandwidthStats NativeAgent::stats() const {
  return agent().getBandwidthStats();
}
bool NativeAgent::isRegistered() const {
  return agent().isRegistered();
}
void NativeAgent::connect(const std::string& peer) {
  agent().connect(peer);
}
void NativeAgent::disconnect(const std::string& peer) {
  agent().disconnect(peer);
}
void NativeAgent::dropConnection(const std::string& peer) {
  agent().dropConnection(peer);
}

void NativeAgent::close() {
  // Receipts still open, and sends not yet made, are failed with Closed by the Python side.
  if (shared_) {
    {
      std::lock_guard lock(shared_->sendMutex);
      shared_->stopping = true;
    }
    shared_->sendsQueued.notify_one();
  }
  // Ends a send the sender thread is blocked in, before that thread is joined.
  if (agent_) agent_->close();
  if (sender_.joinable()) sender_.join();
  // The agent's destructor stops its threads: no callback runs after it.
  agent_.reset();
  if (shared_) shared_->agent = nullptr;
  if (eventFd_ >= 0) {
    ::close(eventFd_);
    eventFd_ = -1;
  }
}

}  // namespace ifmesh::python
