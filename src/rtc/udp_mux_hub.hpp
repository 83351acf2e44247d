#pragma once
// The shared UDP sockets of one I/O thread, one per local address, and the DatagramDemux that
// hands each datagram to the connection it belongs to (src/ice/datagram_demux.hpp): the meeting
// point of every MuxIceTransport of the thread. Loop thread only; IoLoop::udpMux() makes it on
// first use and destroys it when the loop ends.
//
// A datagram the demux cannot place, or one that names a connection which is gone, is dropped
// and counted: no connection pays for another's traffic or for a stranger's.
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <unordered_map>

#include "ice/datagram_demux.hpp"
#include "ice/stun_message.hpp"
#include "rtc/udp_mux_reflexive.hpp"
#include "rtc/udp_mux_socket.hpp"

namespace ifmesh::rtc {

class IoLoop;

// `count` (at most 10) ice-chars (RFC 8839: ALPHA / DIGIT / "+" / "/") of 6 bits of `bits` each,
// appended to `out`: the alphabet of ufrags and passwords.
void appendIceChars(std::string& out, std::uint64_t bits, int count);

class UdpMuxHub {
 public:
  // What a connection takes from the hub.
  class Endpoint {
   public:
    // A STUN message for this connection, read by parseStun, arrived at `localBase` from
    // `source`.
    virtual void onStun(const ice::StunAddress& localBase, const ice::StunAddress& source,
                        std::span<const std::uint8_t> datagram, const ice::ParsedStun& parsed) = 0;
    // A DTLS datagram for this connection (without its mux tag).
    virtual void onDtls(std::span<const std::uint8_t> datagram) = 0;

   protected:
    ~Endpoint() = default;
  };

  struct Counters {
    std::uint64_t dropped = 0;  // datagrams no connection took
  };

  explicit UdpMuxHub(IoLoop& loop) : loop_(loop) {}
  UdpMuxHub(const UdpMuxHub&) = delete;
  UdpMuxHub& operator=(const UdpMuxHub&) = delete;

  // The socket on `address` (its port is ignored), bound on first use to a port of the
  // kernel's choice. Throws Error(Io) when it cannot be bound.
  UdpMuxSocket& socket(const ice::StunAddress& address);

  // Registers a connection with a fresh local ufrag and, when `tagged`, a fresh mux tag (both
  // unique on this thread), and returns its id; `ufrag` and `tag` receive them.
  ice::ConnectionId add(Endpoint& endpoint, std::string& ufrag, std::uint32_t& tag, bool tagged);
  // The connection's peer sends no tag (its SDP announced none): its DTLS is routed by source.
  void untag(ice::ConnectionId id);
  void remove(ice::ConnectionId id);
  ice::DatagramDemux& demux() { return demux_; }

  // Where the STUN server `server` sees the socket on `localBase` (whose port is ignored), to
  // `done` on this thread: shared by every connection of the thread (udp_mux_reflexive.hpp).
  // Throws Error(Io) when the socket cannot be bound.
  void queryReflexive(const ice::StunAddress& localBase, const ice::StunAddress& server,
                      UdpMuxReflexive::Done done);
  // Null until the first query.
  const UdpMuxReflexive* reflexive() const { return reflexive_.get(); }

  const Counters& counters() const { return counters_; }
  std::size_t connections() const { return endpoints_.size(); }

 private:
  struct Registered {
    Endpoint* endpoint;
    std::string ufrag;
    std::uint32_t tag;
  };
  void receive(const ice::StunAddress& localBase, std::span<const std::uint8_t> datagram,
               const ice::StunAddress& source);
  std::string freshUfrag();
  std::uint32_t freshTag();

  IoLoop& loop_;
  ice::DatagramDemux demux_;
  // Keyed by the address without its port; a socket's own address has the port it got.
  std::map<std::pair<bool, std::array<std::uint8_t, 16>>, std::unique_ptr<UdpMuxSocket>> sockets_;
  std::unordered_map<ice::ConnectionId, Registered> endpoints_;
  // Made on the first query, with a connection id of its own for the demultiplexer.
  std::unique_ptr<UdpMuxReflexive> reflexive_;
  ice::ConnectionId reflexiveId_ = 0;
  ice::ConnectionId nextId_ = 1;
  std::mt19937_64 random_{std::random_device{}()};
  Counters counters_;
};

}  // namespace ifmesh::rtc
