#include "native_agent.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <unordered_map>

#include "ifmesh/error.hpp"

namespace ifmesh::python {

namespace {

constexpr int kUndeliverable = -1;
// How often acknowledgements are looked for while sends wait for one. An acknowledgement that
// rides on a message from the peer is seen at once (onMessage); one that comes alone is seen
// within this.
constexpr auto kAckPollInterval = std::chrono::milliseconds(2);

}  // namespace

// What the agent's callbacks share with the binding. The pending-acknowledgement state is only
// touched on the agent's I/O thread.
struct NativeAgent::Shared {
  explicit Shared(int fd) : eventFd(fd) {}

  int eventFd;
  EventQueue events;
  Agent* agent = nullptr;  // set once the agent exists; valid while its threads run

  std::mutex sendMutex;
  std::vector<SendRequest> sends;
  bool sendsPosted = false;

  struct Pending {
    std::uint64_t token;
    std::uint64_t sequence;
    std::string messageId;
    bool settled = false;  // reported undeliverable
  };
  struct PeerPending {
    std::deque<Pending> queue;  // in send order
    std::size_t live = 0;       // not settled
  };
  std::unordered_map<std::string, PeerPending> pending;  // by destination
  std::unordered_map<std::string, std::pair<std::string, std::uint64_t>> byMessageId;
  std::atomic<std::size_t> pendingCount{0};
  std::atomic<bool> pollPosted{false};

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

  // I/O thread. The link acknowledges cumulatively and in order, so when fewer messages wait for
  // an acknowledgement than we have pending, the oldest pending ones were acknowledged.
  void checkAcknowledgements(const std::string& peer) {
    auto it = pending.find(peer);
    if (it == pending.end()) return;
    auto& p = it->second;
    std::size_t waiting = agent->unacknowledged(peer);
    while (p.live > waiting && !p.queue.empty()) {
      Pending front = std::move(p.queue.front());
      p.queue.pop_front();
      pendingCount.fetch_sub(1);
      if (front.settled) continue;
      --p.live;
      byMessageId.erase(front.messageId);
      Event e(Event::Kind::Acknowledged);
      e.token = front.token;
      e.sequence = front.sequence;
      emit(std::move(e));
    }
    while (!p.queue.empty() && p.queue.front().settled) {
      p.queue.pop_front();
      pendingCount.fetch_sub(1);
    }
    if (p.queue.empty()) pending.erase(it);
  }

  void checkAllAcknowledgements() {
    std::vector<std::string> peers;
    peers.reserve(pending.size());
    for (const auto& [peer, p] : pending) peers.push_back(peer);
    for (const auto& peer : peers) checkAcknowledgements(peer);
  }

  // I/O thread: one batch of queued sends.
  void runSends() {
    std::vector<SendRequest> batch;
    {
      std::lock_guard lock(sendMutex);
      batch.swap(sends);
      sendsPosted = false;
    }
    for (auto& r : batch) {
      IFMessage m;
      m.id = newMessageId();
      m.payload = nlohmann::json::parse(r.payloadJson, nullptr, false);
      if (m.payload.is_discarded()) {
        fail(r.token, static_cast<int>(Errc::InvalidArgument), "payload is not valid JSON");
        continue;
      }
      m.priority = static_cast<MessagePriority>(r.priority);
      m.traceId = std::move(r.traceId);
      m.droppable = r.droppable;
      std::string id = m.id;
      std::uint64_t sequence = 0;
      try {
        sequence = agent->send(r.to, std::move(m));
      } catch (const Error& e) {
        fail(r.token, static_cast<int>(e.code()), e.what());
        continue;
      } catch (const std::exception& e) {
        fail(r.token, static_cast<int>(Errc::Internal), e.what());
        continue;
      }
      if (!r.waitForAck) {
        Event e(Event::Kind::Accepted);
        e.token = r.token;
        e.sequence = sequence;
        emit(std::move(e));
        continue;
      }
      auto& p = pending[r.to];
      p.queue.push_back({r.token, sequence, id});
      ++p.live;
      pendingCount.fetch_add(1);
      byMessageId.emplace(std::move(id), std::make_pair(r.to, r.token));
    }
  }

  // I/O thread: a message we sent will not be delivered.
  void undeliverable(const IFMessage& m, const std::string& reason) {
    auto found = byMessageId.find(m.id);
    if (found == byMessageId.end()) {
      // A send that did not wait for its acknowledgement (token 0: Python only logs it), or a
      // message forwarded for another agent.
      if (m.source == agent->id()) fail(0, kUndeliverable, m.destination + ": " + reason);
      return;
    }
    auto [peer, token] = found->second;
    byMessageId.erase(found);
    auto it = pending.find(peer);
    if (it != pending.end()) {
      for (auto& p : it->second.queue) {
        if (p.token == token && !p.settled) {
          p.settled = true;
          --it->second.live;
          break;
        }
      }
    }
    fail(token, kUndeliverable, reason);
  }
};

NativeAgent::NativeAgent(AgentConfig config, const std::string& journalFile) : id_(config.agentId) {
  std::shared_ptr<std::FILE> journal;
  if (!journalFile.empty()) {
    journal.reset(std::fopen(journalFile.c_str(), "a"), [](std::FILE* f) {
      if (f) std::fclose(f);
    });
    if (!journal)
      throw Error(Errc::Io, "journal '" + journalFile + "' cannot be opened for append");
  }
  eventFd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (eventFd_ < 0) throw Error(Errc::Io, "eventfd failed");
  shared_ = std::make_shared<Shared>(eventFd_);
  if (!config.witness) config.witness = std::make_shared<Witness>();
  config.witness->addSink(std::make_shared<CallbackWitnessSink>(
      [s = shared_, on = witnessEvents_](const WitnessEvent& w) {
        if (!on->load()) return;
        Event e(Event::Kind::Witness);
        e.witness = w;
        s->emit(std::move(e));
      }));
  try {
    agent_ = std::make_unique<Agent>(std::move(config));
  } catch (...) {
    ::close(eventFd_);
    eventFd_ = -1;
    throw;
  }
  shared_->agent = agent_.get();
  auto s = shared_;
  agent_->onMessage([s, journal](const IFMessage& m) {
    if (journal) {
      std::string line = serialize(m) + "\n";
      std::fputs(line.c_str(), journal.get());
      std::fflush(journal.get());
    }
    Event e(Event::Kind::Message);
    e.message = m;
    // Serialized here, off the Python thread; the payload came from JSON text, so replacing
    // bad UTF-8 never happens on a valid message.
    e.text = m.payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    e.message.payload = nullptr;
    s->emit(std::move(e));
    // The peer's message may carry the acknowledgement of ours.
    if (s->pendingCount.load() > 0) s->checkAcknowledgements(m.source);
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
  poller_ = std::thread([this] { pollAcknowledgements(); });
}

NativeAgent::~NativeAgent() {
  close();
}

Agent& NativeAgent::agent() const {
  if (!agent_) throw Error(Errc::InvalidState, "the agent is closed");
  return *agent_;
}

void NativeAgent::pollAcknowledgements() {
  std::unique_lock lock(pollMutex_);
  while (!pollStop_) {
    if (shared_->pendingCount.load() == 0 || shared_->pollPosted.load()) {
      pollWake_.wait_for(lock, kAckPollInterval);
      continue;
    }
    shared_->pollPosted.store(true);
    agent_->post([s = shared_] {
      s->pollPosted.store(false);
      s->checkAllAcknowledgements();
    });
    pollWake_.wait_for(lock, kAckPollInterval);
  }
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
    post = !shared_->sendsPosted;
    shared_->sendsPosted = true;
  }
  if (post) a.post([s = shared_] { s->runSends(); });
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
  if (poller_.joinable()) {
    {
      std::lock_guard lock(pollMutex_);
      pollStop_ = true;
    }
    pollWake_.notify_all();
    poller_.join();
  }
  // The agent's destructor stops its threads: no callback runs after it.
  agent_.reset();
  if (shared_) shared_->agent = nullptr;
  if (eventFd_ >= 0) {
    ::close(eventFd_);
    eventFd_ = -1;
  }
}

}  // namespace ifmesh::python
