#pragma once
#include <functional>
#include <memory>
#include <string>

#include "ifmesh/export.hpp"
#include "ifmesh/rtc/configuration.hpp"
#include "ifmesh/rtc/data_channel.hpp"
#include "ifmesh/rtc/types.hpp"

namespace ifmesh {

namespace detail {
class PeerCore;
}

// A WebRTC peer connection carrying DataChannels only (ICE + DTLS 1.2 + SCTP).
// Every method may be called from any thread. Callbacks run on the connection's I/O thread (one
// of a small pool: one per core, at most 4, IFMESH_IO_THREADS overrides; RtcConfiguration::
// ioThread picks which), one at a time, so they must not block. Register callbacks before
// createOffer/setRemoteDescription to see every event.
class IFMESH_API PeerConnection {
 public:
  explicit PeerConnection(RtcConfiguration config = {});
  ~PeerConnection();  // closes the connection
  PeerConnection(const PeerConnection&) = delete;
  PeerConnection& operator=(const PeerConnection&) = delete;

  // Creates and applies the local description; gathering starts and candidates trickle out.
  Description createOffer();
  Description createAnswer();
  // Throws ifmesh::Error(MalformedSdp) for an SDP we cannot use.
  void setRemoteDescription(const Description& description);
  // Throws ifmesh::Error(MalformedCandidate). Candidates before the remote description are held.
  void addRemoteCandidate(const Candidate& candidate);

  // Throws ifmesh::Error(TooManyChannels) when every stream this side may open on is in use
  // (half of maxChannels, or of the peer's smaller limit). A channel created before the
  // connection is up and found over the limit then gets onError and closes instead.
  std::shared_ptr<DataChannel> createDataChannel(const std::string& label,
                                                 const DataChannelInit& init = {});
  void close();

  PeerConnectionState state() const;
  IceState iceState() const;
  DtlsState dtlsState() const;
  GatheringState gatheringState() const;
  std::optional<Description> localDescription() const;
  PeerConnectionStats stats() const;
  // The local certificate's SHA-256 fingerprint as in SDP ("AB:CD:...").
  std::string localFingerprint() const;

  void onLocalCandidate(std::function<void(const Candidate&)> cb);  // empty = end-of-candidates
  void onStateChange(std::function<void(PeerConnectionState)> cb);
  void onIceStateChange(std::function<void(IceState)> cb);
  void onDtlsStateChange(std::function<void(DtlsState)> cb);
  void onGatheringStateChange(std::function<void(GatheringState)> cb);
  void onDataChannel(std::function<void(std::shared_ptr<DataChannel>)> cb);

 private:
  std::shared_ptr<detail::PeerCore> core_;
};

// The SCTP stack's counters (all connections of this process); see SctpStackCounters.
IFMESH_API SctpStackCounters sctpStackCounters();

}  // namespace ifmesh
