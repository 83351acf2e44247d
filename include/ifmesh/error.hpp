#pragma once
// The one exception type ifmesh throws: every bad input (malformed SDP, candidate, DCEP, oversize
// message, call in the wrong state) and every failure (a port that cannot be bound, a file that
// cannot be read, a TLS key that does not match) surfaces as an ifmesh::Error with a
// machine-readable code.
#include <stdexcept>
#include <string>

#include "ifmesh/export.hpp"

namespace ifmesh {

enum class Errc {
  InvalidArgument,
  InvalidState,
  MalformedSdp,
  MalformedCandidate,
  MalformedDcep,
  MessageTooLarge,
  ChannelClosed,
  TooManyChannels,
  QueueFull,       // a peer's send queue is at its bound (see BandwidthConfig::queue)
  MalformedFrame,  // a link frame that cannot be decoded (e.g. bad compressed data)
  Io,              // a file, socket or system call failed (cannot bind, read, write)
  Tls,             // TLS configuration: certificate, key or CA files, cipher setup
  Undeliverable,   // an accepted message that will not reach its next hop (see onUndeliverable)
  Internal,
};

IFMESH_API const char* toString(Errc code) noexcept;
// The enumerator's own name ("MalformedSdp"): what the Python and Node.js bindings call the
// error they raise.
IFMESH_API const char* codeName(Errc code) noexcept;

class IFMESH_API Error : public std::runtime_error {
 public:
  Error(Errc code, const std::string& message)
      : std::runtime_error(std::string(toString(code)) + ": " + message), code_(code) {}
  Errc code() const noexcept { return code_; }

 private:
  Errc code_;
};

}  // namespace ifmesh
