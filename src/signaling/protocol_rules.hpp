#pragma once
// Rules of the signaling protocol that the server and the client both enforce
// (docs/signaling-protocol.md): which message types only the server may send, and how deep a
// message may nest.
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "json_depth.hpp"

namespace ifmesh::signaling::detail {

// "registered", "agent-joined", "agent-left" and "error" come from the server and carry its
// word (the directory, agents' public keys). The server never relays them, and a client ignores
// them when they arrive relayed (with a "from"), so no client can speak for the server.
bool isServerMessageType(std::string_view type);

// A message type is 1 to 64 characters of A-Z a-z 0-9 . _ - ("offer", "ice-candidate").
bool isValidMessageType(std::string_view type);

// Deepest nesting of a message accepted from a socket: a relayed envelope around an IFMessage of
// the deepest nesting the mesh accepts. Measured on the text before parsing; relaying re-serialises
// a message, which recurses once per level.
constexpr std::size_t kMaxMessageDepth = ifmesh::detail::kMaxJsonDepth + 4;

// A client's text frame as the server judges it, before it knows who sent it. Sans-IO: text in,
// verdict out (the server's session acts on it; the signaling fuzzer drives it directly).
struct ClientFrame {
  nlohmann::json message;  // the parsed object, when accepted
  std::string type;        // "register", or the type of a message to relay to `to`
  std::string to;          // relays only: a valid agent id
  std::string errorCode;   // non-empty: refused with this error code and text
  std::string errorText;
  bool accepted() const { return errorCode.empty(); }
};
ClientFrame judgeClientFrame(const std::string& text);

}  // namespace ifmesh::signaling::detail
