#pragma once
// The agent link's frames (docs/link-protocol.md) as types: encode and decode in one place, pure
// functions of bytes, so they are tested and fuzzed without a connection.
//
// A channel message is text holding one frame (a JSON object with "t") or a batch
// {"t":"batch","f":[frame, ...]}, or binary: "IFZ1" and one zstd frame whose content is such a
// text (frame_compression.hpp).
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ifmesh/ifmessage.hpp"
#include "json_depth.hpp"

namespace ifmesh::detail::link {

// The protocol version this implementation speaks ("v" of the hello; absent means 1).
constexpr std::uint64_t kProtocolVersion = 1;
// The pre-negotiated channel every link uses.
constexpr const char* kChannelLabel = "if-agent-messaging";
constexpr std::uint16_t kChannelStreamId = 0;
// Deepest single frame accepted: an IFMessage at its limit inside the frame object.
constexpr std::size_t kMaxFrameDepth = kMaxJsonDepth + 1;
// Hop counts are clamped to this: far above any hop limit, and hops + 1 cannot overflow.
constexpr int kMaxHops = 1 << 16;
// A batch channel message is at most this many bytes, its wrapper included (and never more than
// the channel's max-message-size).
constexpr std::size_t kMaxBatchBytes = 64 * 1024;
// The bytes encodeBatch adds around its frames and their commas: {"t":"batch","f":[ and ]}.
constexpr std::size_t kBatchOverhead = 20;
constexpr int kLanes = kMessagePriorities;

using LaneCounts = std::array<std::uint64_t, kLanes>;

// The first frame on every connection, from each side: what it delivered so far per lane and
// its proof of identity (link_auth.hpp).
struct Hello {
  std::uint64_t version = kProtocolVersion;
  // Last link sequence delivered from the peer, per lane ("lanes"; "recv" repeats Normal's).
  LaneCounts delivered{};
  // The sender's incarnation (0: none given) and the peer incarnation `delivered` counts from
  // (nullopt when absent: counts about whichever incarnation the peer has).
  std::uint64_t incarnation = 0;
  std::optional<std::uint64_t> aboutIncarnation;
  std::string fingerprint;  // "fp": the sender's DTLS certificate fingerprint
  std::string signature;    // "sig": Ed25519 over helloSigningInput, base64
  // "compress" holds "zstd": the sender reads compressed channel messages, and only then may
  // the receiver send it any.
  bool readsZstd = false;
  // "frames" holds "whead": the sender reads witness head frames, and only then may the
  // receiver send it any.
  bool readsWhead = false;
};

// One IFMessage on a lane, with the lane's link sequence and a cumulative ack riding along.
struct Msg {
  std::uint64_t seq = 0;                                 // "s", from 1 per lane
  int hops = 0;                                          // "h": agents that forwarded it so far
  int lane = static_cast<int>(MessagePriority::Normal);  // "l"
  std::uint64_t ack = 0;      // "a": acknowledges the peer's lane up to here; 0: none
  bool ackRequested = false;  // "r": the sender waits for this message's acknowledgement
  IFMessage message;          // "m"
};

// Cumulative acknowledgement of a lane.
struct Ack {
  std::uint64_t seq = 0;
  int lane = static_cast<int>(MessagePriority::Normal);
};

// The head of the sender's witness log (docs/witness.md): its latest signed record's seq, hash
// and signature, for the receiver to keep as evidence of how far that log reached.
struct Whead {
  std::uint64_t seq = 0;  // from 1
  std::string hash;       // 64 lowercase hex digits
  std::string sig;        // base64 Ed25519 signature of witnessSignedBytes(hash)
};
// Longest "sig" accepted: base64 of a 64-byte signature is 88 characters.
constexpr std::size_t kMaxWheadSigChars = 128;

// A frame that cannot be used, with what is wrong with it (for the witness).
struct Malformed {
  std::string reason;
};

using Frame = std::variant<Hello, Msg, Ack, Malformed, Whead>;

// Every frame of a text channel message, batches split, in order. Never throws: hostile bytes
// become Malformed entries. payloadAsText: a message's payload stays its checked text
// (IFMessage::payloadJson), unparsed.
std::vector<Frame> decode(std::string_view text, bool payloadAsText = false);
// decode() without its reader of the common frames (link_frame_reader.hpp): every text through
// a JSON tree. The same frames for every text; for tests and the fuzzer that compare the two.
std::vector<Frame> decodeGeneral(std::string_view text, bool payloadAsText = false);
// A binary channel message: decompressed (at most maxTextBytes) and decoded, or one Malformed.
std::vector<Frame> decodeBinary(std::span<const std::byte> message, std::size_t maxTextBytes,
                                bool payloadAsText = false);

std::string encode(const Hello& hello);
std::string encode(const Ack& ack);
std::string encode(const Whead& head);
// A msg frame around an IFMessage already serialized (serialize()), the form queues keep.
std::string encodeMsg(std::uint64_t seq, int hops, int lane, std::uint64_t ack,
                      std::string_view messageJson, bool ackRequested = false);
// The largest msg frame `messageJson` can become (any sequence, ack and lane).
std::size_t maxMsgFrameBytes(int hops, std::string_view messageJson);
// One channel message carrying `frames` (each an encoded frame) in order.
std::string encodeBatch(std::span<const std::string> frames);

}  // namespace ifmesh::detail::link
