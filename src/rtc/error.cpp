#include "ifmesh/error.hpp"

namespace ifmesh {

const char* toString(Errc code) noexcept {
  switch (code) {
    case Errc::InvalidArgument:
      return "invalid argument";
    case Errc::InvalidState:
      return "invalid state";
    case Errc::MalformedSdp:
      return "malformed SDP";
    case Errc::MalformedCandidate:
      return "malformed ICE candidate";
    case Errc::MalformedDcep:
      return "malformed DCEP message";
    case Errc::MessageTooLarge:
      return "message too large";
    case Errc::ChannelClosed:
      return "channel closed";
    case Errc::TooManyChannels:
      return "too many channels";
    case Errc::QueueFull:
      return "send queue full";
    case Errc::MalformedFrame:
      return "malformed link frame";
    case Errc::Io:
      return "I/O error";
    case Errc::Tls:
      return "TLS error";
    case Errc::Undeliverable:
      return "undeliverable";
    case Errc::Internal:
      return "internal error";
  }
  return "unknown error";
}

const char* codeName(Errc code) noexcept {
  switch (code) {
    case Errc::InvalidArgument:
      return "InvalidArgument";
    case Errc::InvalidState:
      return "InvalidState";
    case Errc::MalformedSdp:
      return "MalformedSdp";
    case Errc::MalformedCandidate:
      return "MalformedCandidate";
    case Errc::MalformedDcep:
      return "MalformedDcep";
    case Errc::MessageTooLarge:
      return "MessageTooLarge";
    case Errc::ChannelClosed:
      return "ChannelClosed";
    case Errc::TooManyChannels:
      return "TooManyChannels";
    case Errc::QueueFull:
      return "QueueFull";
    case Errc::MalformedFrame:
      return "MalformedFrame";
    case Errc::Io:
      return "Io";
    case Errc::Tls:
      return "Tls";
    case Errc::Undeliverable:
      return "Undeliverable";
    case Errc::Internal:
      break;
  }
  return "Internal";
}

}  // namespace ifmesh
