// Agent link channel messages from a neighbour (src/mesh/link_codec.hpp): text and compressed
// binary, batches split. Every input decodes without crashing, every frame that decodes
// encodes back to a frame that decodes to the same values, and what the reader of the common
// frames (link_frame_reader.hpp) reads, the general path reads alike.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "fuzz_check.hpp"
#include "ifmesh/identity.hpp"
#include "ifmesh/ifmessage.hpp"
#include "ifmesh/witness.hpp"
#include "mesh/link_auth.hpp"
#include "mesh/link_codec.hpp"
#include "mesh/link_frame_reader.hpp"

using namespace ifmesh::detail;

namespace {

void check(const link::Frame& frame) {
  if (const auto* hello = std::get_if<link::Hello>(&frame)) {
    // The identity proof of a hello: any bytes are a clean refusal, never a crash.
    static const auto key =
        *ifmesh::PublicKey::parse(ifmesh::AgentIdentity::generate().publicKey());
    FUZZ_CHECK(verifyHello(*hello, &key, "a", "b", "AB:CD") != nullptr);
    auto again = link::decode(link::encode(*hello));
    FUZZ_CHECK(again.size() == 1 && std::holds_alternative<link::Hello>(again[0]));
    const auto& h = std::get<link::Hello>(again[0]);
    FUZZ_CHECK(h.delivered == hello->delivered && h.incarnation == hello->incarnation &&
               h.fingerprint == hello->fingerprint && h.signature == hello->signature);
  } else if (const auto* msg = std::get_if<link::Msg>(&frame)) {
    // A hop count is a count: the agent adds 1 to it and compares with its hop limit.
    FUZZ_CHECK(msg->hops >= 0 && msg->hops <= link::kMaxHops);
    FUZZ_CHECK(msg->lane >= 0 && msg->lane < link::kLanes);
    auto json = ifmesh::serialize(msg->message);
    auto again = link::decode(
        link::encodeMsg(msg->seq, msg->hops, msg->lane, msg->ack, json, msg->ackRequested));
    FUZZ_CHECK(again.size() == 1 && std::holds_alternative<link::Msg>(again[0]));
    const auto& m = std::get<link::Msg>(again[0]);
    FUZZ_CHECK(m.seq == msg->seq && m.hops == msg->hops && m.lane == msg->lane &&
               m.ack == msg->ack && m.ackRequested == msg->ackRequested &&
               ifmesh::serialize(m.message) == json);
  } else if (const auto* head = std::get_if<link::Whead>(&frame)) {
    // What the session checks a head's signature over, and what it records: any bytes are a
    // clean refusal, and a decoded head encodes back to itself.
    static const auto key =
        *ifmesh::PublicKey::parse(ifmesh::AgentIdentity::generate().publicKey());
    FUZZ_CHECK(head->seq > 0 && head->hash.size() == 64 &&
               head->sig.size() <= link::kMaxWheadSigChars);
    FUZZ_CHECK(!key.verify(ifmesh::witnessSignedBytes(head->hash), head->sig));
    auto again = link::decode(link::encode(*head));
    FUZZ_CHECK(again.size() == 1 && std::holds_alternative<link::Whead>(again[0]));
    const auto& h = std::get<link::Whead>(again[0]);
    FUZZ_CHECK(h.seq == head->seq && h.hash == head->hash && h.sig == head->sig);
  } else if (const auto* ack = std::get_if<link::Ack>(&frame)) {
    FUZZ_CHECK(ack->lane >= 0 && ack->lane < link::kLanes);
    auto again = link::decode(link::encode(*ack));
    FUZZ_CHECK(again.size() == 1 && std::holds_alternative<link::Ack>(again[0]) &&
               std::get<link::Ack>(again[0]).seq == ack->seq);
  }
}

// The two readers agree frame by frame: type, every field, the message byte for byte.
void compareReaders(const std::string& text, bool payloadAsText) {
  auto common = link::readCommonFrames(text, payloadAsText);
  if (!common) return;
  auto general = link::decodeGeneral(text, payloadAsText);
  FUZZ_CHECK(common->size() == general.size());
  for (std::size_t i = 0; i < general.size(); ++i) {
    FUZZ_CHECK((*common)[i].index() == general[i].index());
    if (const auto* a = std::get_if<link::Ack>(&general[i])) {
      const auto& b = std::get<link::Ack>((*common)[i]);
      FUZZ_CHECK(a->seq == b.seq && a->lane == b.lane);
    } else if (const auto* m = std::get_if<link::Msg>(&general[i])) {
      const auto& n = std::get<link::Msg>((*common)[i]);
      FUZZ_CHECK(m->seq == n.seq && m->hops == n.hops && m->lane == n.lane && m->ack == n.ack &&
                 m->ackRequested == n.ackRequested);
      FUZZ_CHECK(m->message.payloadJson == n.message.payloadJson &&
                 m->message.payload == n.message.payload);
      FUZZ_CHECK(ifmesh::serialize(m->message) == ifmesh::serialize(n.message));
    } else {
      FUZZ_CHECK(false);  // the common reader reads only msg and ack frames
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  compareReaders(text, false);
  compareReaders(text, true);
  for (const auto& frame : link::decode(text)) check(frame);
  for (const auto& frame : link::decodeBinary(std::as_bytes(std::span(data, size)), 1 << 20))
    check(frame);
  return 0;
}
