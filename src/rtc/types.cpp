#include "ifmesh/rtc/types.hpp"

namespace ifmesh {

const char* toString(PeerConnectionState s) noexcept {
  switch (s) {
    case PeerConnectionState::New:
      return "new";
    case PeerConnectionState::Connecting:
      return "connecting";
    case PeerConnectionState::Connected:
      return "connected";
    case PeerConnectionState::Disconnected:
      return "disconnected";
    case PeerConnectionState::Failed:
      return "failed";
    case PeerConnectionState::Closed:
      return "closed";
  }
  return "unknown";
}

const char* toString(IceState s) noexcept {
  switch (s) {
    case IceState::New:
      return "new";
    case IceState::Checking:
      return "checking";
    case IceState::Connected:
      return "connected";
    case IceState::Completed:
      return "completed";
    case IceState::Disconnected:
      return "disconnected";
    case IceState::Failed:
      return "failed";
    case IceState::Closed:
      return "closed";
  }
  return "unknown";
}

const char* toString(DtlsState s) noexcept {
  switch (s) {
    case DtlsState::New:
      return "new";
    case DtlsState::Connecting:
      return "connecting";
    case DtlsState::Connected:
      return "connected";
    case DtlsState::Failed:
      return "failed";
    case DtlsState::Closed:
      return "closed";
  }
  return "unknown";
}

const char* toString(GatheringState s) noexcept {
  switch (s) {
    case GatheringState::New:
      return "new";
    case GatheringState::Gathering:
      return "gathering";
    case GatheringState::Complete:
      return "complete";
  }
  return "unknown";
}

}  // namespace ifmesh
