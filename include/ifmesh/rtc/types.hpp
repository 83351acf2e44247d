#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ifmesh/export.hpp"

namespace ifmesh {

enum class PeerConnectionState { New, Connecting, Connected, Disconnected, Failed, Closed };
enum class IceState { New, Checking, Connected, Completed, Disconnected, Failed, Closed };
enum class DtlsState { New, Connecting, Connected, Failed, Closed };
enum class GatheringState { New, Gathering, Complete };

IFMESH_API const char* toString(PeerConnectionState s) noexcept;
IFMESH_API const char* toString(IceState s) noexcept;
IFMESH_API const char* toString(DtlsState s) noexcept;
IFMESH_API const char* toString(GatheringState s) noexcept;

struct Description {
  enum class Type { Offer, Answer };
  Type type;
  std::string sdp;
};

// A trickled ICE candidate as browsers exchange it: "candidate:..." (no "a=" prefix) and the
// media id. An empty candidate string means end-of-candidates.
struct Candidate {
  std::string candidate;
  std::string mid = "0";
};

struct DataChannelInit {
  bool ordered = true;
  std::optional<std::uint16_t> maxRetransmits;     // partial reliability by count
  std::optional<std::uint16_t> maxPacketLifeTime;  // partial reliability by time (ms)
  std::string protocol;
  std::optional<std::uint16_t> negotiatedId;  // out-of-band negotiated: no DCEP, both sides create
};

using Binary = std::vector<std::byte>;
// A message as delivered: text (PPID 51/56) or binary (PPID 53/57).
using Message = std::variant<std::string, Binary>;

struct CandidatePairStats {
  std::string localCandidate;   // SDP candidate line
  std::string remoteCandidate;  // SDP candidate line
  std::string localType;        // host, srflx, prflx, relay
  std::string remoteType;
};

// The SCTP association's own view of its progress: what a stuck transfer is diagnosed from.
struct SctpAssociationStats {
  std::string state;                  // e.g. "established", "shutdown-pending"
  bool pathReachable = false;         // the peer's address is not marked unreachable
  std::uint32_t peerWindowBytes = 0;  // the peer's last advertised receive window, less in flight
  std::uint32_t congestionWindowBytes = 0;
  std::uint32_t rtoMs = 0;          // the current retransmission timeout
  std::uint32_t smoothedRttMs = 0;  // 0 until a round trip was measured
  std::uint32_t unackedChunks = 0;  // DATA chunks sent and not yet acknowledged
  std::uint32_t pendingChunks = 0;  // DATA chunks received, waiting for reassembly or order
  std::size_t queuedMessages = 0;   // messages in our send queue that usrsctp has not taken
};

struct PeerConnectionStats {
  PeerConnectionState state = PeerConnectionState::New;
  std::optional<CandidatePairStats> selectedPair;
  std::optional<double> rttMs;  // SCTP smoothed RTT of the association
  std::optional<SctpAssociationStats> sctp;
  std::uint64_t bytesSent = 0;  // DTLS payload bytes
  std::uint64_t bytesReceived = 0;
  std::size_t dataChannels = 0;
  std::string failureReason;     // why the connection failed, when it did
  std::string disconnectReason;  // why it went to Disconnected, when it did (e.g. SCTP lost)
};

// Counters of the process's one SCTP stack (all connections together) since it started; 32-bit
// in usrsctp, so they wrap: take differences with uint32_t arithmetic. What a benchmark divides by
// its message count to see how many packets each message costs, and whether any were lost.
struct SctpStackCounters {
  std::uint32_t dataChunksSent = 0;
  std::uint32_t dataChunksRetransmitted = 0;
  std::uint32_t sacksSent = 0;
  std::uint32_t delayedSackTimeouts = 0;  // SACKs sent alone after the delayed-ack timer
  std::uint32_t retransmissionTimeouts = 0;
  std::uint32_t heartbeatsSent = 0;
};

}  // namespace ifmesh
