// Signaling frames as the server receives them from a client. The server's checks live inside
// its WebSocket session (src/signaling/server.cpp, Session::handle/registerAgent), so this
// replays the same steps on the parsed JSON: parse, the type/to/agent_id checks, the token
// check (verifyAuthToken, the part that is a callable function) and the relay's re-dump.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "ifmesh/signaling.hpp"

namespace {
// Seed tokens were made with this secret (and expire in 2100), so valid ones reach the HMAC.
const std::string kSecret = "fuzz-secret";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  // The raw bytes as a token, for the token parser's own edge cases.
  (void)ifmesh::signaling::verifyAuthToken(kSecret, "agent-a", text);

  nlohmann::json message = nlohmann::json::parse(text, nullptr, false);
  if (message.is_discarded() || !message.is_object() || !message.contains("type") ||
      !message["type"].is_string())
    return 0;
  const std::string type = message["type"];
  if (type == "register") {
    auto idIt = message.find("agent_id");
    if (idIt == message.end() || !idIt->is_string() || idIt->get<std::string>().empty() ||
        idIt->get<std::string>().size() > 256)
      return 0;
    std::string id = *idIt;
    auto token = message.find("token");
    if (token != message.end() && token->is_string())
      (void)ifmesh::signaling::verifyAuthToken(kSecret, id, *token);
    return 0;
  }
  auto to = message.find("to");
  if (to == message.end() || !to->is_string()) return 0;
  message["from"] = "agent-a";  // as the relay does, then re-serialized for the target
  std::string relayed = message.dump();
  (void)relayed;
  return 0;
}
