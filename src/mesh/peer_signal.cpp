#include "mesh/peer_signal.hpp"

namespace ifmesh::detail {

namespace {

std::string text(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The object `message` carries under `key`, or null.
const nlohmann::json* object(const nlohmann::json& message, const char* key) {
  auto it = message.find(key);
  return it != message.end() && it->is_object() ? &*it : nullptr;
}

}  // namespace

std::optional<PeerSignal> PeerSignal::parse(const std::string& type,
                                            const nlohmann::json& message) {
  PeerSignal s;
  if (auto it = message.find("sid"); it != message.end() && it->is_number_unsigned())
    s.sid = it->get<std::uint64_t>();
  const nlohmann::json* body = nullptr;
  if (type == "offer") {
    s.kind = Kind::Offer;
    if ((body = object(message, "offer"))) s.sdp = text(*body, "sdp");
  } else if (type == "answer") {
    s.kind = Kind::Answer;
    if ((body = object(message, "answer"))) s.sdp = text(*body, "sdp");
  } else if (type == "ice-candidate") {
    s.kind = Kind::Candidate;
    if ((body = object(message, "candidate"))) {
      s.candidate = text(*body, "candidate");
      s.mid = text(*body, "sdpMid");
    }
  } else if (type == "connect-request") {
    s.kind = Kind::ConnectRequest;
    return s;
  } else if (type == "bye") {
    s.kind = Kind::Bye;
    return s;
  } else {
    return std::nullopt;
  }
  s.wellFormed = body != nullptr;
  return s;
}

const char* PeerSignal::type() const {
  switch (kind) {
    case Kind::Offer:
      return "offer";
    case Kind::Answer:
      return "answer";
    case Kind::Candidate:
      return "ice-candidate";
    case Kind::ConnectRequest:
      return "connect-request";
    case Kind::Bye:
      return "bye";
  }
  return "unknown";
}

}  // namespace ifmesh::detail
