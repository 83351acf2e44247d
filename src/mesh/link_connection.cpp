#include "mesh/link_connection.hpp"

#include "ifmesh/error.hpp"
#include "mesh/link_codec.hpp"
#include "rtc/sdp.hpp"

namespace ifmesh::detail {

namespace {
// The certificate fingerprint a remote description pins: the DTLS handshake of the connection
// succeeds only with that certificate, so it names who is at the other end of this channel.
// (Read from the SDP we applied rather than from src/rtc, which keeps it to itself.)
std::string pinnedFingerprint(const std::string& sdp, rtc::sdp::SessionDescription::Type type) {
  try {
    return rtc::sdp::formatFingerprint(rtc::sdp::parse(sdp, type).fingerprint);
  } catch (const Error&) {
    return {};
  }
}
}  // namespace

LinkConnection::LinkConnection(const RtcConfiguration& config, std::uint64_t sid, Signal signal,
                               Events events, std::size_t drainedThreshold)
    : sid_(sid), signal_(std::move(signal)), pc_(std::make_unique<PeerConnection>(config)) {
  DataChannelInit init;
  init.negotiatedId = link::kChannelStreamId;  // negotiated out of band: no DCEP round trip
  channel_ = pc_->createDataChannel(link::kChannelLabel, init);
  pc_->onLocalCandidate([this](const Candidate& c) {
    nlohmann::json body = {{"sid", sid_},
                           {"candidate", {{"candidate", c.candidate}, {"sdpMid", c.mid}}}};
    // Gathering starts inside createOffer/createAnswer: hold candidates until the description
    // itself has been signaled, so the peer never sees a candidate for a session it lacks.
    if (!descriptionSent_)
      heldCandidates_.push_back(std::move(body));
    else
      signal_("ice-candidate", std::move(body));
  });
  pc_->onStateChange([down = events.down](PeerConnectionState s) {
    if (s == PeerConnectionState::Failed || s == PeerConnectionState::Disconnected ||
        s == PeerConnectionState::Closed)
      down(toString(s));
  });
  channel_->onOpen(std::move(events.open));
  channel_->onClose([down = events.down] { down("channel closed"); });
  channel_->setBufferedAmountLowThreshold(drainedThreshold);
  channel_->onBufferedAmountLow(std::move(events.drained));
  channel_->onMessage(
      [text = std::move(events.text), binary = std::move(events.binary)](Message&& m) {
        if (auto* t = std::get_if<std::string>(&m))
          text(*t);
        else if (auto* b = std::get_if<Binary>(&m))
          binary(*b);
      });
}

LinkConnection::~LinkConnection() {
  channel_->onOpen(nullptr);
  channel_->onClose(nullptr);
  channel_->onMessage(nullptr);
  channel_->onBufferedAmountLow(nullptr);
  channel_.reset();
  pc_->onLocalCandidate(nullptr);
  pc_->onStateChange(nullptr);
  // Destroying a PeerConnection from its own loop is safe: transports die after this dispatch.
  pc_.reset();
}

void LinkConnection::releaseCandidates() {
  descriptionSent_ = true;
  for (auto& body : heldCandidates_) signal_("ice-candidate", std::move(body));
  heldCandidates_.clear();
}

void LinkConnection::offer() {
  auto description = pc_->createOffer();
  signal_("offer", {{"sid", sid_}, {"offer", {{"type", "offer"}, {"sdp", description.sdp}}}});
  releaseCandidates();
}

void LinkConnection::answer(const std::string& offerSdp) {
  pc_->setRemoteDescription({Description::Type::Offer, offerSdp});
  remoteFingerprint_ = pinnedFingerprint(offerSdp, rtc::sdp::SessionDescription::Type::Offer);
  auto answer = pc_->createAnswer();
  signal_("answer", {{"sid", sid_}, {"answer", {{"type", "answer"}, {"sdp", answer.sdp}}}});
  releaseCandidates();
}

void LinkConnection::applyAnswer(const std::string& answerSdp) {
  pc_->setRemoteDescription({Description::Type::Answer, answerSdp});
  remoteFingerprint_ = pinnedFingerprint(answerSdp, rtc::sdp::SessionDescription::Type::Answer);
}

void LinkConnection::addCandidate(const std::string& candidate, const std::string& mid) {
  try {
    pc_->addRemoteCandidate({candidate, mid});
  } catch (const Error&) {
    // A malformed candidate is ignored; the others may still connect.
  }
}

std::size_t LinkConnection::applyBudget(ChannelBudget& budget, std::size_t highWater) {
  return applyChannelBudget(budget, *channel_, highWater);
}

void LinkConnection::sendText(const std::string& text, bool urgent) {
  if (urgent)
    channel_->sendUrgent(text);
  else
    channel_->send(text);
}

void LinkConnection::sendBinary(std::span<const std::byte> bytes, bool urgent) {
  if (urgent)
    channel_->sendUrgent(bytes);
  else
    channel_->send(bytes);
}

nlohmann::json LinkConnection::selectedPath() const {
  nlohmann::json path = nlohmann::json::object();
  if (auto pair = pc_->stats().selectedPair) {
    path["local_candidate_type"] = pair->localType;
    path["remote_candidate_type"] = pair->remoteType;
  }
  return path;
}

}  // namespace ifmesh::detail
