// Signaling frames as the server receives them from a client: the server's own verdict
// (judgeClientFrame: depth, JSON, type and id grammar, server types never relayed), the token
// check for a register, and the relay's re-dump of what it accepts.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"
#include "ifmesh/signaling.hpp"
#include "signaling/protocol_rules.hpp"

namespace {
// Seed tokens were made with this secret (and expire in 2100), so valid ones reach the HMAC.
const std::string kSecret = "fuzz-secret";
constexpr auto kAnyLifetime = std::chrono::seconds::max();
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ifmesh::signaling;
  std::string text(reinterpret_cast<const char*>(data), size);
  // The raw bytes as a token, for the token parser's own edge cases.
  (void)verifyAuthToken(kSecret, "agent-a", text, kAnyLifetime);

  detail::ClientFrame frame = detail::judgeClientFrame(text);
  if (!frame.accepted()) {
    FUZZ_CHECK(frame.errorCode == "bad_message");
    return 0;
  }
  FUZZ_CHECK(detail::isValidMessageType(frame.type));
  if (frame.type == "register") {
    auto id = frame.message.find("agent_id");
    auto token = frame.message.find("token");
    if (id != frame.message.end() && id->is_string() && isValidAgentId(id->get<std::string>()) &&
        token != frame.message.end() && token->is_string())
      (void)verifyAuthToken(kSecret, *id, *token, kAnyLifetime);
    return 0;
  }
  FUZZ_CHECK(!detail::isServerMessageType(frame.type));
  FUZZ_CHECK(isValidAgentId(frame.to));
  // As the relay does, then re-serialised for the target: strictly, so that text the parser took
  // and the dump would refuse (invalid UTF-8) is a crash here.
  frame.message["from"] = "agent-a";
  std::string relayed = frame.message.dump();
  FUZZ_CHECK(!relayed.empty());
  return 0;
}
