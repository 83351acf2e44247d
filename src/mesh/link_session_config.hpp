#pragma once
// What a link session (link_session.hpp) is configured with: who the two ends are, limits, acks,
// the state store's hooks and the witness heads.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "ifmesh/bandwidth.hpp"
#include "ifmesh/identity.hpp"
#include "ifmesh/ifmessage.hpp"
#include "ifmesh/witness.hpp"

namespace ifmesh::detail::link {

struct SessionConfig {
  std::string ownId, peerId;
  std::uint64_t incarnation = 0;  // ours: a new process has a new one
  std::size_t maxMessageBytes = 256 * 1024;
  // Received messages keep their payload as text (IFMessage::payloadJson), checked, not parsed.
  bool payloadAsText = false;
  BandwidthConfig::Queue queue;
  // A received message is acknowledged alone after ackEvery messages of a lane or ackDelay;
  // before that a message of ours to the peer carries the ack.
  std::uint64_t ackEvery = 64;
  std::chrono::milliseconds ackDelay{5000};
  // A message whose frame asks for it ("r") is acknowledged at once instead: nextDeadline() is
  // now, so everything that arrived together shares one ack.
  // The key the directory gives for the peer (nullptr: none known), looked up at its hello.
  std::function<const PublicKey*()> peerKey;
  // With a state store: a message is acknowledged only once committed() says that its delivery
  // is durable, and every queued message is first handed to `persist`, which returns its
  // outbox key (reported back when the message is acknowledged, dropped or taken), and sent
  // only once committed() says that it is durable.
  bool durableAcks = false;
  std::function<std::uint64_t(const IFMessage&, const std::string& json, int hops)> persist;
  // Witness heads (docs/witness.md). readsWhead: our hello announces that we take the peer's
  // heads (we keep a witness log to record them in). witnessHead: our own log's signed head
  // (null or nothing: none to show), shown to a peer that announced it reads heads once per
  // connection and then at most every wheadInterval while the log recorded more than heads.
  bool readsWhead = false;
  std::function<std::optional<WitnessHead>()> witnessHead;
  std::chrono::milliseconds wheadInterval{5000};
  // A peer's heads are taken at most once per wheadMinGap; the ones between are dropped unread.
  std::chrono::milliseconds wheadMinGap{1000};
};

}  // namespace ifmesh::detail::link
