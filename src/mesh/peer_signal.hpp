#pragma once
// A link's signaling message as another agent relayed it (docs/signaling-protocol.md): offer,
// answer, ICE candidate, connect request or bye, read from JSON that is hostile until checked.
// A field that is missing or of the wrong type reads as empty or 0; the link refuses what it
// cannot use. Sans-IO.
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace ifmesh::detail {

struct PeerSignal {
  enum class Kind { Offer, Answer, Candidate, ConnectRequest, Bye };
  Kind kind = Kind::Bye;
  // False when the body lacks the object its type carries ("offer", "answer" or "candidate"):
  // the signal then does nothing beyond the check of who sent it (see createsLink()).
  bool wellFormed = true;
  std::uint64_t sid = 0;       // the sender's connection attempt; 0 when absent
  std::string sdp;             // Offer, Answer
  std::string candidate, mid;  // Candidate

  // Nothing for a type that is not a link's.
  static std::optional<PeerSignal> parse(const std::string& type, const nlohmann::json& message);
  // Offers and connect requests make a link for a peer that has none, so their sender must have
  // announced its key first (its hello is verified against it).
  bool createsLink() const { return kind == Kind::Offer || kind == Kind::ConnectRequest; }
  const char* type() const;  // as on the wire
};

}  // namespace ifmesh::detail
