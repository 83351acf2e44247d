#include "mesh/link_witness_heads.hpp"

#include "ifmesh/witness.hpp"

namespace ifmesh::detail::link {

void WitnessHeads::connectionClosed() {
  peerReads_ = shownOnConnection_ = false;
  due_.reset();
  shownAt_.reset();
}

bool WitnessHeads::peerHello(bool readsWhead) {
  peerReads_ = readsWhead;
  return peerReads_ && config_.witnessHead && !shownOnConnection_;
}

std::optional<Whead> WitnessHeads::take(Clock::time_point now) {
  if (!peerReads_ || !config_.witnessHead) {
    due_.reset();
    return std::nullopt;
  }
  due_ = now + config_.wheadInterval;
  auto head = config_.witnessHead();
  // Once per connection, then only when the log recorded more than the heads it was shown:
  // two agents showing each other their heads do not keep each other's logs growing.
  if (!head || (shownOnConnection_ && head->events == shownEvents_)) return std::nullopt;
  shownOnConnection_ = true;
  shownEvents_ = head->events;
  shownAt_ = now;
  return Whead{head->seq, std::move(head->hash), std::move(head->sig)};
}

WitnessHeads::Received WitnessHeads::receive(Clock::time_point now, const Whead& head) {
  // Sent only to a receiver that announced it: anyone else sending one breaks the protocol.
  if (!config_.readsWhead) return {nullptr, "whead not announced"};
  if (head.seq == peerHead_.seq && head.hash == peerHead_.hash) return {};  // nothing new
  // At most one head per gap is checked (a signature check each) and recorded (a witness record
  // each): a peer flooding heads is bounded in both, and an honest one sends far fewer.
  if (peerHeadAt_ && now - *peerHeadAt_ < config_.wheadMinGap) return {};
  peerHeadAt_ = now;
  const PublicKey* key = config_.peerKey ? config_.peerKey() : nullptr;
  if (!key || !key->verify(witnessSignedBytes(head.hash), head.sig))
    return {nullptr, "whead: signature does not verify with the peer's key"};
  peerHead_ = head;
  return {&peerHead_, nullptr};
}

}  // namespace ifmesh::detail::link
