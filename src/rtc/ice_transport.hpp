#pragma once
// What a PeerConnection needs of ICE (RFC 8445, trickle per RFC 8838): gathering local
// candidates, checking pairs with the peer's, and carrying DTLS datagrams over the selected
// pair. Two implementations: NiceIceTransport (libnice: a socket per connection, STUN and TURN
// servers) and MuxIceTransport (our own agent of src/ice on the I/O thread's shared socket).
// Loop thread only, callbacks included.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "ifmesh/rtc/configuration.hpp"
#include "ifmesh/rtc/types.hpp"
#include "rtc/io_loop.hpp"

namespace ifmesh::rtc {

class IceTransport {
 public:
  struct Callbacks {
    std::function<void(const std::string&)> onLocalCandidate;  // "candidate:..."
    std::function<void()> onGatheringDone;
    std::function<void(IceState)> onStateChange;
    std::function<void(const std::uint8_t*, std::size_t)> onData;
  };

  virtual ~IceTransport() = default;

  virtual std::pair<std::string, std::string> localCredentials() const = 0;  // ufrag, pwd
  // The tag this end takes DTLS behind (SDP a=x-ifmesh-mux), when it has one.
  virtual std::optional<std::uint32_t> localMuxTag() const { return std::nullopt; }
  // Starts gathering; false when it cannot start (no usable local address).
  virtual bool gather() = 0;
  virtual void setRemoteCredentials(const std::string& ufrag, const std::string& pwd) = 0;
  // The peer's a=x-ifmesh-mux, or nothing when it announced none; before any remote candidate.
  virtual void setRemoteMuxTag(std::optional<std::uint32_t>) {}
  // Throws ifmesh::Error(MalformedCandidate). Returns false for a candidate ignored on purpose
  // (mDNS hostname, other component, TCP).
  virtual bool addRemoteCandidate(const std::string& candidate) = 0;
  virtual void remoteGatheringDone() = 0;
  // A DTLS datagram to the peer over the selected pair; false when there is none (yet).
  virtual bool send(const void* data, std::size_t length) = 0;
  // Detaches from the loop; no callbacks afterwards.
  virtual void shutdown() = 0;

  virtual IceState state() const = 0;
  // Why the state is Failed, for PeerConnectionStats::failureReason.
  virtual std::string failureReason() const {
    return "ICE failed: no working candidate pair (or consent lost)";
  }
  virtual std::optional<CandidatePairStats> selectedPair() const = 0;
};

// The implementation `config` asks for (RtcConfiguration::sharedIceSocket), where it can serve
// the configuration: STUN and TURN servers need libnice.
std::unique_ptr<IceTransport> makeIceTransport(IoLoop& loop, const RtcConfiguration& config,
                                               bool controlling, IceTransport::Callbacks callbacks);

}  // namespace ifmesh::rtc
