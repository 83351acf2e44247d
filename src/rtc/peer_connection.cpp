#include "ifmesh/rtc/peer_connection.hpp"

#include "ifmesh/error.hpp"
#include "rtc/candidate.hpp"
#include "rtc/peer_core.hpp"

namespace ifmesh {

PeerConnection::PeerConnection(RtcConfiguration config)
    : core_(std::make_shared<detail::PeerCore>(std::move(config))) {}

PeerConnection::~PeerConnection() {
  // Destruction is silent: callbacks often capture objects that are already going away.
  core_->loop().invoke([core = core_] {
    core->clearCallbacks();
    core->close();
  });
}

Description PeerConnection::createOffer() {
  return core_->loop().invoke([this] { return core_->createOffer(); });
}

Description PeerConnection::createAnswer() {
  return core_->loop().invoke([this] { return core_->createAnswer(); });
}

void PeerConnection::setRemoteDescription(const Description& description) {
  core_->loop().invoke([&] { core_->setRemoteDescription(description); });
}

void PeerConnection::addRemoteCandidate(const Candidate& candidate) {
  // Called from another I/O thread (the candidate callback of a connection living there), a
  // blocking call could leave two loops waiting on each other: validate here, apply in order.
  if (rtc::IoLoop::current() && !core_->loop().isLoopThread()) {
    if (!candidate.candidate.empty()) rtc::parseCandidate(candidate.candidate);
    core_->loop().post([core = core_, candidate] {
      try {
        core->addRemoteCandidate(candidate);
      } catch (const Error&) {
        // closed meanwhile: nothing to apply it to
      }
    });
    return;
  }
  core_->loop().invoke([&] { core_->addRemoteCandidate(candidate); });
}

std::shared_ptr<DataChannel> PeerConnection::createDataChannel(const std::string& label,
                                                               const DataChannelInit& init) {
  auto channel = core_->loop().invoke([&] { return core_->createDataChannel(label, init); });
  return std::shared_ptr<DataChannel>(new DataChannel(std::move(channel)));
}

void PeerConnection::close() {
  core_->loop().invoke([this] { core_->close(); });
}

PeerConnectionState PeerConnection::state() const {
  return core_->state;
}
IceState PeerConnection::iceState() const {
  return core_->iceState;
}
DtlsState PeerConnection::dtlsState() const {
  return core_->dtlsState;
}
GatheringState PeerConnection::gatheringState() const {
  return core_->gatheringState;
}

std::optional<Description> PeerConnection::localDescription() const {
  return core_->loop().invoke([this] { return core_->localDescription(); });
}

PeerConnectionStats PeerConnection::stats() const {
  return core_->loop().invoke([this] { return core_->stats(); });
}

std::string PeerConnection::localFingerprint() const {
  return core_->localFingerprint();
}

void PeerConnection::onLocalCandidate(std::function<void(const Candidate&)> cb) {
  core_->onLocalCandidate.set(std::move(cb));
}
void PeerConnection::onStateChange(std::function<void(PeerConnectionState)> cb) {
  core_->onStateChange.set(std::move(cb));
}
void PeerConnection::onIceStateChange(std::function<void(IceState)> cb) {
  core_->onIceStateChange.set(std::move(cb));
}
void PeerConnection::onDtlsStateChange(std::function<void(DtlsState)> cb) {
  core_->onDtlsStateChange.set(std::move(cb));
}
void PeerConnection::onGatheringStateChange(std::function<void(GatheringState)> cb) {
  core_->onGatheringStateChange.set(std::move(cb));
}
void PeerConnection::onDataChannel(std::function<void(std::shared_ptr<DataChannel>)> cb) {
  core_->onDataChannel.set(std::move(cb));
  core_->loop().post([weak = std::weak_ptr(core_)] {
    if (auto core = weak.lock()) core->deliverPendingChannels();
  });
}

}  // namespace ifmesh
