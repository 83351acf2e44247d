#include "rtc/peer_core.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <limits>

#include "ifmesh/error.hpp"
#include "ifmesh/rtc/data_channel.hpp"
#include "rtc/candidate.hpp"
#include "rtc/dcep.hpp"
#include "rtc/log.hpp"

namespace ifmesh::detail {

namespace sdp = rtc::sdp;
namespace dcep = rtc::dcep;

namespace {
constexpr std::size_t kMaxEarlyDatagrams = 64;
constexpr std::size_t kDefaultRemoteMaxMessageSize = 65536;  // RFC 8841 §6: when not announced
}  // namespace

PeerCore::PeerCore(RtcConfiguration config)
    : config_(std::move(config)),
      runtime_(rtc::Runtime::instance()),
      loop_(config_.ioThread < 0 ? runtime_.nextLoop()
                                 : runtime_.loop(static_cast<std::size_t>(config_.ioThread))) {
  if (config_.maxMessageSize == 0)
    throw Error(Errc::InvalidArgument, "maxMessageSize must be positive");
  RAND_bytes(reinterpret_cast<unsigned char*>(&sessionId_), sizeof sessionId_);
  sessionId_ &= 0x3fffffffffffffffULL;  // o= session ids must fit a signed 64-bit integer
}

PeerCore::~PeerCore() = default;

void PeerCore::ensureIce(bool controlling) {
  if (ice_) return;
  rtc::IceTransport::Callbacks cb;
  cb.onLocalCandidate = [this](const std::string& line) {
    if (local_) local_->candidates.push_back(line);
    onLocalCandidate(Candidate{line, local_ ? local_->mid : "0"});
  };
  cb.onGatheringDone = [this] {
    if (local_) local_->endOfCandidates = true;
    if (local_ && local_->candidates.empty()) {
      // With forceRelay this is what a refused TURN allocation (bad credentials) looks like.
      failReason_ = config_.forceRelay
                        ? "no relay candidate: the TURN allocation failed (check credentials)"
                        : "no local ICE candidate could be gathered";
      loop().post([weak = weak_from_this()] {
        if (auto self = weak.lock()) self->fail(self->failReason_);
      });
    }
    gatheringState = GatheringState::Complete;
    onGatheringStateChange(GatheringState::Complete);
    onLocalCandidate(Candidate{"", local_ ? local_->mid : "0"});
  };
  cb.onStateChange = [this](IceState s) { handleIceState(s); };
  cb.onData = [this](const std::uint8_t* data, std::size_t length) { handleIceData(data, length); };
  ice_ = rtc::makeIceTransport(loop_, config_, controlling, std::move(cb));
}

void PeerCore::startGathering() {
  if (gatheringState != GatheringState::New) return;
  // However ICE ends up (no pairs, no answer, unreachable relay), the connection resolves.
  connectDeadline_ = loop().addTimer(std::chrono::milliseconds(config_.connectTimeoutMs), [this] {
    if (state != PeerConnectionState::Connected && !closed_)
      fail("not connected within " + std::to_string(config_.connectTimeoutMs) + " ms");
    return false;
  });
  gatheringState = GatheringState::Gathering;
  onGatheringStateChange(GatheringState::Gathering);
  if (!ice_->gather()) fail("ICE candidate gathering failed to start: no usable local address");
}

sdp::SessionDescription PeerCore::buildLocal(Description::Type type) {
  sdp::SessionDescription d;
  d.type = type == Description::Type::Offer ? sdp::SessionDescription::Type::Offer
                                            : sdp::SessionDescription::Type::Answer;
  auto [ufrag, pwd] = ice_->localCredentials();
  d.iceUfrag = ufrag;
  d.icePwd = pwd;
  d.fingerprint = runtime_.certificate().fingerprint();
  d.sctpPort = localSctpPort_;
  d.maxMessageSize = config_.maxMessageSize;
  d.muxTag = ice_->localMuxTag();
  d.sessionId = sessionId_;
  d.sessionVersion = ++sessionVersion_;
  if (local_) d.candidates = local_->candidates;
  return d;
}

Description PeerCore::createOffer() {
  if (closed_) throw Error(Errc::InvalidState, "connection is closed");
  if (remote_ && remote_->type == sdp::SessionDescription::Type::Offer)
    throw Error(Errc::InvalidState, "have a remote offer: create an answer instead");
  ensureIce(true);
  local_ = buildLocal(Description::Type::Offer);
  local_->setup = sdp::SessionDescription::Setup::ActPass;
  Description out{Description::Type::Offer, sdp::serialize(*local_)};
  startGathering();
  return out;
}

Description PeerCore::createAnswer() {
  if (closed_) throw Error(Errc::InvalidState, "connection is closed");
  if (!remote_ || remote_->type != sdp::SessionDescription::Type::Offer)
    throw Error(Errc::InvalidState, "no remote offer to answer");
  bool firstAnswer = !local_;
  local_ = buildLocal(Description::Type::Answer);
  local_->mid = remote_->mid;
  // The answer must list m-sections in the offer's order (RFC 3264 §6), audio/video rejected.
  local_->otherMedia = remote_->otherMedia;
  local_->dataIndex = remote_->dataIndex;
  // We take the DTLS client role unless the offerer insists on it (RFC 8842 §5.3).
  dtlsClient_ = remote_->setup != sdp::SessionDescription::Setup::Active;
  local_->setup = dtlsClient_ ? sdp::SessionDescription::Setup::Active
                              : sdp::SessionDescription::Setup::Passive;
  Description out{Description::Type::Answer, sdp::serialize(*local_)};
  if (firstAnswer) createDtls();
  startGathering();
  return out;
}

void PeerCore::setRemoteDescription(const Description& description) {
  if (closed_) throw Error(Errc::InvalidState, "connection is closed");
  auto type = description.type == Description::Type::Offer ? sdp::SessionDescription::Type::Offer
                                                           : sdp::SessionDescription::Type::Answer;
  sdp::SessionDescription parsed = sdp::parse(description.sdp, type);
  if (parsed.fingerprintAlgorithm != "sha-256")
    throw Error(Errc::MalformedSdp, "only sha-256 certificate fingerprints are supported");
  if (remote_) throw Error(Errc::InvalidState, "renegotiation is not supported");
  if (type == sdp::SessionDescription::Type::Offer) {
    if (local_) throw Error(Errc::InvalidState, "have a local offer (glare): roll back first");
    ensureIce(false);
  } else {
    if (!local_ || local_->setup != sdp::SessionDescription::Setup::ActPass)
      throw Error(Errc::InvalidState, "no local offer for this answer");
    if (parsed.setup == sdp::SessionDescription::Setup::ActPass)
      throw Error(Errc::MalformedSdp, "an answer must not use a=setup:actpass");
    dtlsClient_ = parsed.setup == sdp::SessionDescription::Setup::Passive;
  }
  remote_ = std::move(parsed);
  ice_->setRemoteCredentials(remote_->iceUfrag, remote_->icePwd);
  ice_->setRemoteMuxTag(remote_->muxTag);
  for (const auto& c : remote_->candidates) {
    try {
      ice_->addRemoteCandidate(c);
    } catch (const Error& e) {
      // One bad candidate line in an otherwise good SDP is skipped, like browsers do.
      ::ifmesh::detail::log(LogLevel::Warning, "rtc",
                            std::string("skipped a remote candidate: ") + e.what());
    }
  }
  for (const auto& c : pendingRemoteCandidates_) ice_->addRemoteCandidate(c);
  pendingRemoteCandidates_.clear();
  if (remote_->endOfCandidates) ice_->remoteGatheringDone();
  if (type == sdp::SessionDescription::Type::Answer) createDtls();
}

void PeerCore::addRemoteCandidate(const Candidate& candidate) {
  if (closed_) throw Error(Errc::InvalidState, "connection is closed");
  if (candidate.candidate.empty()) {
    if (remote_ && ice_) ice_->remoteGatheringDone();
    return;
  }
  rtc::parseCandidate(candidate.candidate);  // validate now so the caller gets the error
  if (!remote_) {
    pendingRemoteCandidates_.push_back(candidate.candidate);
    return;
  }
  ice_->addRemoteCandidate(candidate.candidate);
}

void PeerCore::createDtls() {
  rtc::DtlsTransport::Callbacks cb;
  cb.sendDatagram = [this](const void* data, std::size_t length) {
    bytesSent_ += length;
    return ice_ && ice_->send(data, length);
  };
  cb.onConnected = [this] { handleDtlsConnected(); };
  cb.onFailed = [this](const std::string& reason) {
    setDtlsState(DtlsState::Failed);
    fail(reason);
  };
  cb.onClosed = [this] {
    setDtlsState(DtlsState::Closed);
    if (disconnectReason_.empty()) disconnectReason_ = "DTLS closed by the peer";
    closeChannels();
    if (sctp_) sctp_->shutdown();
    setState(PeerConnectionState::Disconnected);
  };
  cb.onData = [this](const std::uint8_t* data, std::size_t length) {
    ++recordsReceived_;
    if (sctp_) sctp_->receivePacket(data, length);
  };
  dtls_ = std::make_unique<rtc::DtlsTransport>(loop_, runtime_.dtlsContext(), loop_.dtlsScratch(),
                                               dtlsClient_, remote_->fingerprint, std::move(cb));
  setDtlsState(DtlsState::Connecting);
  if (dtlsClient_ && (iceState == IceState::Connected || iceState == IceState::Completed))
    dtls_->start();
  auto early = std::move(earlyDatagrams_);
  for (auto& datagram : early) dtls_->receiveDatagram(datagram.data(), datagram.size());
}

void PeerCore::handleIceState(IceState s) {
  iceState = s;
  onIceStateChange(s);
  switch (s) {
    case IceState::Checking:
      setState(PeerConnectionState::Connecting);
      break;
    case IceState::Connected:
    case IceState::Completed:
      if (dtls_ && dtlsClient_) dtls_->start();
      if (state == PeerConnectionState::Disconnected && dtlsState == DtlsState::Connected)
        setState(PeerConnectionState::Connected);
      else if (state == PeerConnectionState::New)
        setState(PeerConnectionState::Connecting);
      break;
    case IceState::Disconnected:
      if (state == PeerConnectionState::Connected) setState(PeerConnectionState::Disconnected);
      break;
    case IceState::Failed:
      fail(ice_ ? ice_->failureReason() : "ICE failed");
      break;
    default:
      break;
  }
}

void PeerCore::handleIceData(const std::uint8_t* data, std::size_t length) {
  bytesReceived_ += length;
  if (dtls_) return dtls_->receiveDatagram(data, length);
  if (earlyDatagrams_.size() < kMaxEarlyDatagrams)
    earlyDatagrams_.emplace_back(data, data + length);
}

void PeerCore::handleDtlsConnected() {
  connectDeadline_.cancel();
  setDtlsState(DtlsState::Connected);
  setState(PeerConnectionState::Connected);
  startConsentWatchdog();
  rtc::SctpTransport::Callbacks cb;
  cb.sendPacket = [this](const void* data, std::size_t length) {
    if (dtls_) dtls_->send(data, length);
  };
  cb.onConnected = [this] { handleSctpConnected(); };
  cb.onClosed = [this](const std::string& reason) {
    if (disconnectReason_.empty()) disconnectReason_ = reason;
    closeChannels();
    if (!closed_) setState(PeerConnectionState::Disconnected);
  };
  cb.onStalled = [this](const std::string& reason) { fail(reason); };
  cb.onMessage = [this](std::uint16_t stream, std::uint32_t ppid, std::vector<std::byte>&& data) {
    handleSctpMessage(stream, ppid, std::move(data));
  };
  cb.onStreamError = [this](std::uint16_t stream, const std::string& message) {
    if (auto it = channels_.find(stream); it != channels_.end()) it->second->reportError(message);
  };
  cb.onIncomingReset = [this](std::uint16_t stream) {
    if (auto it = channels_.find(stream); it != channels_.end()) {
      auto channel = it->second;
      channels_.erase(it);
      channel->remoteReset();
    }
  };
  cb.onSent = [this](std::uint16_t stream, std::uint32_t ppid, std::size_t bytes) {
    if (ppid == dcep::kPpidDcep) return;
    if (auto it = channels_.find(stream); it != channels_.end()) it->second->sent(bytes);
  };
  try {
    sctp_ = rtc::SctpTransport::create(runtime_, loop_, localSctpPort_, remote_->sctpPort,
                                       config_.maxMessageSize, config_.maxChannels,
                                       config_.consentTimeoutMs / 3, std::move(cb));
    sctp_->connect();
  } catch (const Error& e) {
    fail(e.what());
  }
}

// Consent to send (RFC 7675) and failure detection in one: a record that passed DTLS
// authentication can only come from the peer we verified, so it proves the peer is there and
// still talking to us; a peer that vanishes without a word (killed process, dead link, dead
// relay) only shows as their absence. SCTP heartbeats (every consentTimeoutMs / 3 on an idle
// association, answered by the peer) keep them coming while nothing else is sent.
// libnice's own consent check is not used (nice_ice_transport.cpp says why).
void PeerCore::startConsentWatchdog() {
  if (config_.consentTimeoutMs == 0 || consentWatchdog_.active()) return;
  auto timeout = std::chrono::milliseconds(config_.consentTimeoutMs);
  auto period = std::max(std::chrono::milliseconds(20), timeout / 10);
  lastHeardRecords_ = recordsReceived_;
  lastHeard_ = std::chrono::steady_clock::now();
  consentWatchdog_ = loop().addTimer(period, [this, timeout] {
    if (closed_ || state == PeerConnectionState::Failed) return false;
    auto now = std::chrono::steady_clock::now();
    if (recordsReceived_ != lastHeardRecords_) {
      lastHeardRecords_ = recordsReceived_;
      lastHeard_ = now;
      return true;
    }
    if (now - lastHeard_ < timeout) return true;
    std::string reason = "peer unresponsive: nothing received for " +
                         std::to_string(config_.consentTimeoutMs) + " ms (consent expired)";
    if (auto pair = ice_ ? ice_->selectedPair() : std::nullopt; pair && pair->localType == "relay")
      reason += " on a path through a TURN relay: the peer or the TURN server is gone";
    fail(reason);
    return false;
  });
}

void PeerCore::handleSctpConnected() {
  auto pending = std::move(unopened_);
  unopened_.clear();
  for (auto& channel : pending) {
    if (channel->state() == ChannelCore::State::Connecting) openChannel(channel);
  }
}

std::size_t PeerCore::sendLimit() const {
  std::size_t remote = kDefaultRemoteMaxMessageSize;
  if (remote_ && remote_->maxMessageSize) {
    remote = *remote_->maxMessageSize == 0 ? std::numeric_limits<std::size_t>::max()
                                           : static_cast<std::size_t>(*remote_->maxMessageSize);
  }
  return std::min(remote, config_.maxMessageSize);
}

std::uint32_t PeerCore::streamLimit() const {
  // A peer that accepts fewer inbound streams than our maxChannels caps the ids we may use: a
  // channel on a higher id would look open here and never reach it.
  std::uint32_t limit = config_.maxChannels;
  if (sctp_ && sctp_->connected()) limit = std::min<std::uint32_t>(limit, sctp_->outboundStreams());
  return limit;
}

std::string PeerCore::tooManyChannels() const {
  return "no free SCTP stream for another channel: this side may have " +
         std::to_string((streamLimit() + (dtlsClient_ ? 1 : 0)) / 2) +
         " open at once (streams: " + std::to_string(streamLimit()) + ", our maxChannels " +
         std::to_string(config_.maxChannels) + ")";
}

std::optional<std::uint16_t> PeerCore::allocateStreamId() {
  // RFC 8832 §6: the DTLS client uses even stream ids, the server odd ones.
  for (std::uint32_t id = dtlsClient_ ? 0 : 1; id < streamLimit(); id += 2) {
    if (!channels_.count(static_cast<std::uint16_t>(id))) return static_cast<std::uint16_t>(id);
  }
  return std::nullopt;
}

void PeerCore::openChannel(const std::shared_ptr<ChannelCore>& channel) {
  if (channel->negotiated()) {
    auto id = *channel->id();
    if (id >= streamLimit()) {
      channel->reportError("negotiated id " + std::to_string(id) + " is beyond the " +
                           std::to_string(streamLimit()) + " streams of this association");
      channel->markClosed();
      return;
    }
    if (channels_.count(id)) {
      channel->reportError("negotiated id " + std::to_string(id) + " is already in use");
      channel->markClosed();
      return;
    }
    channels_[id] = channel;
    channel->attach(sctp_, sendLimit(), true);
    return;
  }
  auto id = allocateStreamId();
  if (!id) {
    channel->reportError(tooManyChannels());
    channel->markClosed();
    return;
  }
  channel->assignId(*id);
  channels_[*id] = channel;
  auto open = dcep::encodeOpen(channel->openMessage());
  sctp_->enqueue(*id, dcep::kPpidDcep, std::move(open), {});
  channel->attach(sctp_, sendLimit(), false);
}

std::shared_ptr<ChannelCore> PeerCore::createDataChannel(const std::string& label,
                                                         const DataChannelInit& init) {
  if (closed_) throw Error(Errc::InvalidState, "connection is closed");
  auto channel = std::make_shared<ChannelCore>(loop_, label, init);
  if (sctp_ && sctp_->connected()) {
    // Refused here, where the caller can see it (a channel queued before the association was up
    // gets the same message through onError and closes).
    if (!channel->negotiated() && !allocateStreamId())
      throw Error(Errc::TooManyChannels, tooManyChannels());
    openChannel(channel);
  } else
    unopened_.push_back(channel);
  return channel;
}

void PeerCore::handleSctpMessage(std::uint16_t stream, std::uint32_t ppid,
                                 std::vector<std::byte>&& data) {
  if (ppid == dcep::kPpidDcep) return handleDcep(stream, data);
  auto it = channels_.find(stream);
  if (it == channels_.end()) return;  // stream without a channel (closed or never opened)
  auto channel = it->second;
  if (!channel->acked()) channel->ackReceived();  // RFC 8832: data implies the ACK
  channel->deliver(ppid, std::move(data));
}

void PeerCore::handleDcep(std::uint16_t stream, const std::vector<std::byte>& data) {
  dcep::Message message;
  try {
    message = dcep::decode(data);
  } catch (const Error& e) {
    // Malformed DCEP from the peer: ignored, the association carries on.
    if (::ifmesh::detail::logEnabled(LogLevel::Info))
      ::ifmesh::detail::log(
          LogLevel::Info, "rtc",
          "ignored a DCEP message on stream " + std::to_string(stream) + ": " + e.what());
    return;
  }
  if (std::holds_alternative<dcep::Ack>(message)) {
    if (auto it = channels_.find(stream); it != channels_.end()) it->second->ackReceived();
    return;
  }
  const auto& open = std::get<dcep::Open>(message);
  bool peerParity = (stream % 2 == 0) != dtlsClient_;
  if (!peerParity || stream >= config_.maxChannels || channels_.count(stream)) return;
  auto channel = std::make_shared<ChannelCore>(loop_, stream, open);
  channels_[stream] = channel;
  sctp_->enqueue(stream, dcep::kPpidDcep, dcep::encodeAck(), {});
  channel->attach(sctp_, sendLimit(), true);
  std::shared_ptr<DataChannel> wrapper(new DataChannel(channel));
  if (onDataChannel)
    onDataChannel(wrapper);
  else
    undeliveredChannels_.push_back(std::move(wrapper));  // its messages queue in the channel
}

void PeerCore::clearCallbacks() {
  onLocalCandidate.set(nullptr);
  onStateChange.set(nullptr);
  onIceStateChange.set(nullptr);
  onDtlsStateChange.set(nullptr);
  onGatheringStateChange.set(nullptr);
  onDataChannel.set(nullptr);
}

void PeerCore::deliverPendingChannels() {
  if (!onDataChannel) return;
  auto pending = std::move(undeliveredChannels_);
  undeliveredChannels_.clear();
  for (auto& channel : pending) onDataChannel(channel);
}

void PeerCore::setState(PeerConnectionState next) {
  if (state == next || state == PeerConnectionState::Closed) return;
  state = next;
  onStateChange(next);
}

void PeerCore::setDtlsState(DtlsState next) {
  if (dtlsState == next) return;
  dtlsState = next;
  onDtlsStateChange(next);
}

void PeerCore::fail(const std::string& reason) {
  if (closed_ || state == PeerConnectionState::Failed) return;
  failReason_ = reason;
  closeChannels();
  setState(PeerConnectionState::Failed);
}

void PeerCore::closeChannels() {
  auto channels = std::move(channels_);
  channels_.clear();
  auto unopened = std::move(unopened_);
  unopened_.clear();
  for (auto& [id, channel] : channels) channel->markClosed();
  for (auto& channel : unopened) channel->markClosed();
}

void PeerCore::close() {
  if (closed_) return;
  closed_ = true;
  closeChannels();
  teardownTransports();
  setDtlsState(DtlsState::Closed);
  iceState = IceState::Closed;
  setState(PeerConnectionState::Closed);
}

void PeerCore::teardownTransports() {
  connectDeadline_.cancel();
  consentWatchdog_.cancel();
  // Order matters: SCTP's ABORT goes out through DTLS, DTLS's close_notify through ICE.
  if (sctp_) sctp_->shutdown();
  if (dtls_) dtls_->shutdown();
  if (ice_) ice_->shutdown();
  // We may be inside one of their callbacks: destroy them after the current dispatch.
  std::shared_ptr<rtc::IceTransport> ice(std::move(ice_));
  std::shared_ptr<rtc::DtlsTransport> dtls(std::move(dtls_));
  loop_.post([ice, dtls, sctp = std::move(sctp_)] {});
}

PeerConnectionStats PeerCore::stats() const {
  PeerConnectionStats s;
  s.state = state;
  if (ice_) s.selectedPair = ice_->selectedPair();
  if (sctp_) {
    s.sctp = sctp_->associationStats();  // one SCTP_STATUS query for both
    if (s.sctp && sctp_->connected()) s.rttMs = s.sctp->smoothedRttMs;
  }
  s.bytesSent = bytesSent_;
  s.bytesReceived = bytesReceived_;
  s.dataChannels = channels_.size();
  s.failureReason = failReason_;
  s.disconnectReason = disconnectReason_;
  return s;
}

std::optional<Description> PeerCore::localDescription() const {
  if (!local_) return std::nullopt;
  return Description{local_->type == sdp::SessionDescription::Type::Offer
                         ? Description::Type::Offer
                         : Description::Type::Answer,
                     sdp::serialize(*local_)};
}

std::string PeerCore::localFingerprint() const {
  return sdp::formatFingerprint(runtime_.certificate().fingerprint());
}

}  // namespace ifmesh::detail
