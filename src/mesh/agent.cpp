#include "ifmesh/agent.hpp"

#include <thread>

#include "mesh/agent_core.hpp"

namespace ifmesh {

const char* toString(PeerState s) noexcept {
  switch (s) {
    case PeerState::Connecting:
      return "connecting";
    case PeerState::Connected:
      return "connected";
    case PeerState::Reconnecting:
      return "reconnecting";
    case PeerState::Unreachable:
      return "unreachable";
    case PeerState::Disconnected:
      return "disconnected";
  }
  return "unknown";
}

Agent::Agent(AgentConfig config) : core_(std::make_shared<detail::AgentCore>(std::move(config))) {}

Agent::~Agent() {
  core_->shutdown();
}

const std::string& Agent::id() const {
  return core_->config().agentId;
}

void Agent::close() {
  core_->shutdown();
}

void Agent::connectToSignaling() {
  core_->start();
}

bool Agent::isRegistered() const {
  return core_->registration.isRegistered();
}

RegistrationResult Agent::waitRegistered(std::chrono::milliseconds timeout) const {
  return core_->registration.wait(timeout);
}

void Agent::connect(const std::string& peerId) {
  core_->loop().invoke([&] { core_->connect(peerId); });
}

void Agent::disconnect(const std::string& peerId) {
  core_->loop().invoke([&] { core_->disconnect(peerId); });
}

void Agent::dropConnection(const std::string& peerId) {
  core_->loop().invoke([&] {
    if (auto l = core_->link(peerId, false)) l->drop();
  });
}

namespace {
std::shared_future<void> ready() {
  std::promise<void> p;
  p.set_value();
  return p.get_future().share();
}

// Accepts a message (see Agent::send) and returns its sequence number. With `acked` set, the
// message's frame asks the peer to acknowledge it promptly and `acked` hears of the
// acknowledgement; without, nobody waits for it and the peer acknowledges at its own pace.
// `accepted` runs on the I/O thread once the message is accepted, never for a refused one.
std::uint64_t submit(detail::AgentCore& core, const std::string& peerId, IFMessage message,
                     const detail::AckNotice& acked,
                     const std::function<void(std::uint64_t sequence)>& accepted) {
  const auto& q = core.config().bandwidth.queue;
  std::uint64_t sequence = 0;
  auto attempt = [&](bool mayWait) {
    return core.loop().invoke([&]() -> bool {
      auto s = mayWait ? core.send(peerId, message, true, acked)
                       : core.send(peerId, std::move(message), false, acked);
      if (!s) return false;
      sequence = *s;
      accepted(sequence);
      return true;
    });
  };
  // Blocking the I/O thread would stop the very acknowledgements that make room: Fail there.
  if (q.policy != QueuePolicy::Block || core.loop().isLoopThread()) {
    attempt(false);
    return sequence;
  }
  auto deadline = std::chrono::steady_clock::now() + q.blockTimeout;
  for (;;) {
    auto seen = core.space.generation();  // before trying, so no release is missed
    if (attempt(true)) return sequence;
    if (!core.space.wait(seen, deadline)) {
      attempt(false);  // one last try, counted (and thrown) as a refusal
      return sequence;
    }
  }
}

// The callbacks of one Agent::sendAsync, and the sequence number they are told.
struct Outcomes {
  explicit Outcomes(SendCallbacks c) : callbacks(std::move(c)) {}
  SendCallbacks callbacks;
  std::uint64_t sequence = 0;  // set once accepted, before any callback runs (all are deferred)
};

// Hands an outcome to its callback after the work at hand (AgentCore::defer).
detail::AckNotice deferredTo(detail::AgentCore& core, std::shared_ptr<Outcomes> outcomes,
                             SendCallbacks::Outcome SendCallbacks::*which) {
  if (!(outcomes->callbacks.*which)) return nullptr;
  return [core = &core, outcomes = std::move(outcomes), which](std::exception_ptr error) {
    core->defer([outcomes, which, error = std::move(error)] {
      (outcomes->callbacks.*which)(outcomes->sequence, error);
    });
  };
}
}  // namespace

SendReceipt Agent::sendAsync(const std::string& peerId, IFMessage message) {
  auto acked = std::make_shared<std::promise<void>>();
  SendReceipt receipt;
  receipt.acknowledged = acked->get_future().share();
  receipt.sequence =
      submit(*core_, peerId, std::move(message), detail::noticeFor(acked), [&](std::uint64_t) {
        receipt.durable = core_->durable() ? core_->durable()->pendingCommitDone() : ready();
      });
  return receipt;
}

std::uint64_t Agent::sendAsync(const std::string& peerId, IFMessage message,
                               SendCallbacks callbacks) {
  auto outcomes = std::make_shared<Outcomes>(std::move(callbacks));
  auto durable = deferredTo(*core_, outcomes, &SendCallbacks::durable);
  auto acked = deferredTo(*core_, outcomes, &SendCallbacks::acknowledged);
  return submit(*core_, peerId, std::move(message), acked, [&](std::uint64_t sequence) {
    outcomes->sequence = sequence;
    if (!durable) return;
    if (core_->durable())
      core_->durable()->whenDurable(std::move(durable));
    else
      durable(nullptr);
  });
}

std::uint64_t Agent::send(const std::string& peerId, IFMessage message) {
  if (!core_->durable()) {
    // No receipt to build: the common path stays as cheap as it was.
    const auto& q = core_->config().bandwidth.queue;
    if (q.policy != QueuePolicy::Block || core_->loop().isLoopThread())
      return *core_->loop().invoke([&] { return core_->send(peerId, std::move(message)); });
  }
  std::shared_future<void> durable;
  auto sequence = submit(*core_, peerId, std::move(message), nullptr, [&](std::uint64_t) {
    durable = core_->durable() ? core_->durable()->pendingCommitDone() : ready();
  });
  if (!core_->loop().isLoopThread()) durable.get();
  return sequence;
}

std::uint64_t Agent::lastSequence(const std::string& peerId, MessagePriority priority) const {
  return core_->loop().invoke([&] { return core_->lastSequence(peerId, priority); });
}

std::uint64_t Agent::stateSyncs() const {
  return core_->loop().invoke(
      [&]() -> std::uint64_t { return core_->durable() ? core_->durable()->syncs() : 0; });
}

std::uint64_t Agent::stateCommits() const {
  return core_->loop().invoke(
      [&]() -> std::uint64_t { return core_->durable() ? core_->durable()->commits() : 0; });
}

void Agent::broadcast(const IFMessage& message) {
  auto durable = core_->loop().invoke([&]() -> std::optional<std::shared_future<void>> {
    for (const auto& [id, link] : core_->links)
      if (link->state() != PeerState::Disconnected) core_->send(id, message);
    if (!core_->durable()) return std::nullopt;
    return core_->durable()->pendingCommitDone();
  });
  if (durable && !core_->loop().isLoopThread()) durable->get();
}

void Agent::post(std::function<void()> fn) {
  core_->loop().post([core = core_, fn = std::move(fn)] {
    if (!core->isShutdown()) core->runGathered(fn);
  });
}

void Agent::onMessage(std::function<void(const IFMessage&)> cb) {
  core_->onMessage.set(std::move(cb));
}
void Agent::onPeerState(std::function<void(const std::string&, PeerState)> cb) {
  core_->onPeerState.set(std::move(cb));
}
void Agent::onSignalingError(
    std::function<void(const std::string& code, const std::string& message)> cb) {
  core_->onSignalingError.set(std::move(cb));
}

void Agent::onUndeliverable(std::function<void(const IFMessage&, const std::string&)> cb) {
  core_->onUndeliverable.set(std::move(cb));
}

std::vector<std::string> Agent::peers() const {
  return core_->loop().invoke([&] {
    std::vector<std::string> out;
    for (const auto& [id, link] : core_->links)
      if (link->connected()) out.push_back(id);
    return out;
  });
}

std::optional<PeerState> Agent::peerState(const std::string& peerId) const {
  return core_->loop().invoke([&]() -> std::optional<PeerState> {
    auto l = core_->link(peerId, false);
    if (!l) return std::nullopt;
    return l->state();
  });
}

QualityMode Agent::getQualityMode() const {
  return core_->qualityMode();
}
BandwidthStats Agent::getBandwidthStats() const {
  return core_->bandwidthStats();
}
void Agent::onQualityChange(std::function<void(QualityMode, QualityMode)> cb) {
  core_->onQualityChange.set(std::move(cb));
}

std::size_t Agent::unacknowledged(const std::string& peerId) const {
  return core_->loop().invoke([&]() -> std::size_t {
    auto l = core_->link(peerId, false);
    return l ? l->unacknowledged() : 0;
  });
}

std::size_t Agent::connectionAttempts(const std::string& peerId) const {
  return core_->loop().invoke([&]() -> std::size_t {
    auto l = core_->link(peerId, false);
    return l ? l->connectionsCreated() : 0;
  });
}

}  // namespace ifmesh
