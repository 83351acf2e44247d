#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ifmesh {

// An ICE server given as a URL: "stun:host:port" or "turn:host:port?transport=udp".
struct IceServer {
  std::string url;
  std::string username;    // TURN only
  std::string credential;  // TURN only
};

struct RtcConfiguration {
  std::vector<IceServer> iceServers;
  // Local addresses ICE may gather on. Empty means every interface; tests pass {"127.0.0.1"}.
  std::vector<std::string> localAddresses;
  // Use relay candidates only (TURN); connectivity fails rather than going direct.
  bool forceRelay = false;
  // Largest message we accept and announce in a=max-message-size. Sends are limited by the
  // smaller of this and the peer's announced value.
  std::size_t maxMessageSize = 256 * 1024;
  // ICE connectivity-check pacing (Ta). It bounds connection setup time: 1 ms opens a loopback
  // or LAN connection in a few ms; raise it (RFC 8445 suggests 50 ms for media) on links where
  // bursts of checks hurt.
  unsigned iceCheckPacingMs = 1;
  // When we are the controlling agent (the offerer), nominate with every check (RFC 5245's
  // aggressive nomination): the first pair that answers is selected at once (a higher-priority
  // one answering later may replace it). Regular nomination (false) finds a pair valid, then
  // checks it again with USE-CANDIDATE on a later pacing tick: on loopback that took ~2 ms more
  // of a ~7 ms setup. RFC 8445 deprecates aggressive nomination; Chromium and libnice accept it
  // as controlled agents. Set false for a peer that insists on regular nomination.
  bool aggressiveNomination = true;
  // SCTP streams in each direction = the most DataChannels open at once (ids 0..maxChannels-1).
  // Each stream costs memory in every association: an agent mesh that needs one channel per
  // peer uses a small value.
  std::uint16_t maxChannels = 1024;
  // A connection not up this long after gathering started goes to Failed.
  unsigned connectTimeoutMs = 30000;
  // A connected peer we have heard nothing from for this long is gone (its process died, its
  // network vanished, a TURN server on the path stopped): the connection goes to Failed, with
  // stats().failureReason saying so, and we stop sending to it (RFC 7675's consent expiry, 30 s
  // there too). Only records that pass DTLS authentication count. SCTP heartbeats every
  // ~consentTimeoutMs/3 keep an idle but healthy connection talking (the peer answers them), so
  // this works against any peer and tolerates lost packets. Lower values detect a vanished peer
  // sooner but mistake a peer whose I/O stalls that long for a dead one. 0 turns detection off
  // (an idle connection to a vanished peer then stays Connected).
  unsigned consentTimeoutMs = 30000;
  // The I/O thread this connection lives on (an index into the process's pool, modulo its
  // size); -1 spreads connections round-robin. Connections that call each other synchronously
  // from callbacks (an in-process pair, an Agent's links) should share one.
  int ioThread = -1;
  // SO_RCVBUF of the UDP socket the selected candidate pair uses (0: the system's default,
  // net.core.rmem_default). A bulk transfer on loopback overflows a default buffer now and then;
  // SCTP recovers every lost datagram, at some cost in throughput. The kernel caps the value at
  // net.core.rmem_max (raised by root only). Tests set a few KiB to make loss certain.
  int udpReceiveBufferBytes = 0;
  // ICE by ifmesh's own agent on one UDP socket per I/O thread and local address, shared by all
  // of the thread's connections (recvmmsg/sendmmsg batches, no GLib on the path), instead of
  // libnice with sockets of its own per connection. Toward another such end, DTLS travels behind
  // the receiver's tag (SDP a=x-ifmesh-mux); toward any other (a browser), as usual. It gathers
  // host candidates and, from STUN servers, server-reflexive ones (one query per socket and
  // server for all of the thread's connections); with a TURN server, forceRelay,
  // udpReceiveBufferBytes or a port range set, libnice serves the connection.
  bool sharedIceSocket = true;
  // Local UDP port range for host candidates (0 = any).
  std::uint16_t portRangeBegin = 0;
  std::uint16_t portRangeEnd = 0;
};

}  // namespace ifmesh
