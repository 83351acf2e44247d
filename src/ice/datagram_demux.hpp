#pragma once
// Which connection a datagram belongs to when every connection of an I/O thread shares one UDP
// socket, sans-IO: a datagram and its source in, a connection and what to hand it out.
//
// The first byte tells the protocol (RFC 7983):
//   0-3    STUN: a Binding request by the first half of its USERNAME (our ufrag), a response by
//          the transaction id of the check that asked for it, an indication by its source
//          when one connection without a tag holds that address.
//   20-63  DTLS without a tag: by its source address. A browser uses a socket per connection,
//          so its address names the connection.
//   kMuxTagByte  a DTLS datagram behind a mux tag: by the tag, which this end gave the
//          connection and announced in its SDP. Two ifmesh agents that both share a socket per
//          thread carry many connections between the same two addresses; the tag tells them
//          apart. A tag is only taken from an address ICE proved for its connection.
// Anything else, and what names no connection, is dropped with a reason and no cost to any
// connection. Nothing here checks integrity: that is the connection's (answerBindingRequest,
// BindingCheck, DTLS).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ice/stun_message.hpp"

namespace ifmesh::ice {

// A byte no protocol on a WebRTC 5-tuple starts with (RFC 7983's 80-127 are unassigned), then
// the receiver's 32-bit tag, big-endian.
inline constexpr std::uint8_t kMuxTagByte = 0x5a;
inline constexpr std::size_t kMuxTagBytes = 5;

using ConnectionId = std::uint64_t;

struct Demuxed {
  enum class Kind { StunRequest, StunResponse, StunIndication, Dtls, Dropped };
  Kind kind = Kind::Dropped;
  ConnectionId connection = 0;
  std::span<const std::uint8_t> payload;  // the datagram, without a mux tag
  std::optional<ParsedStun> stun;         // for the STUN kinds: the parsed message
  const char* dropped = "";               // why, for Dropped
};

class DatagramDemux {
 public:
  // A connection with its local ufrag and the tag it announced (0: none; its peer sends plain
  // DTLS). False, and nothing registered, when the id, ufrag or tag is taken.
  bool add(ConnectionId id, const std::string& localUfrag, std::uint32_t muxTag);
  void remove(ConnectionId id);
  // The connection's peer sends no tag after all (its SDP announced none): its DTLS is routed by
  // source address from now on, from the addresses allowed so far too. False when one of those
  // is another untagged connection's (nothing changes then).
  bool untag(ConnectionId id);
  // An address ICE proved the connection's peer at (a valid pair's remote). False when a
  // connection without a tag has it already: plain DTLS from it could not be told apart.
  bool allowRemote(ConnectionId id, const StunAddress& remote);
  // A check of the connection's is in flight; its response is routed by this transaction id.
  void expectResponse(const TransactionId& transaction, ConnectionId id);
  void forgetResponse(const TransactionId& transaction);

  Demuxed classify(std::span<const std::uint8_t> datagram, const StunAddress& source) const;

  std::size_t connections() const { return entries_.size(); }

  // `payload` (a DTLS datagram) behind the receiver's tag, as its peer is to send it.
  // The same into `out` (its capacity kept from one datagram to the next).
  static void writeTagged(std::uint32_t peerTag, std::span<const std::uint8_t> payload,
                          std::vector<std::uint8_t>& out);
  static std::vector<std::uint8_t> tagged(std::uint32_t peerTag,
                                          std::span<const std::uint8_t> payload);

 private:
  struct AddressHash {
    std::size_t operator()(const StunAddress& a) const;
  };
  struct TransactionHash {
    std::size_t operator()(const TransactionId& t) const;
  };
  struct Entry {
    std::string ufrag;
    std::uint32_t tag = 0;
    std::vector<StunAddress> remotes;
  };
  bool allowed(const Entry& entry, const StunAddress& source) const;
  Demuxed stun(std::span<const std::uint8_t> datagram, const StunAddress& source) const;

  std::unordered_map<ConnectionId, Entry> entries_;
  std::unordered_map<std::string, ConnectionId> byUfrag_;
  std::unordered_map<std::uint32_t, ConnectionId> byTag_;
  std::unordered_map<StunAddress, ConnectionId, AddressHash> byAddress_;  // untagged only
  std::unordered_map<TransactionId, ConnectionId, TransactionHash> byTransaction_;
};

}  // namespace ifmesh::ice
