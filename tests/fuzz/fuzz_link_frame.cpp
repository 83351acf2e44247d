// Agent link channel frames (hello / ack / msg, possibly batched) from a neighbour: split and
// decode every frame the way PeerLink::handleFrame does, without a connection.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "ifmesh/error.hpp"
#include "ifmesh/ifmessage.hpp"
#include "mesh/link_auth.hpp"
#include "mesh/link_frame.hpp"

using namespace ifmesh::detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  for (auto& frame : splitLinkFrames(text)) {
    auto type = linkFrameType(frame);
    if (!type) continue;
    if (*type == "hello") {
      (void)linkFrameSeq(frame, "recv");
      // The identity proof of a hello: any bytes are a clean refusal, never a crash.
      static const auto key =
          *ifmesh::PublicKey::parse(ifmesh::AgentIdentity::generate().publicKey());
      FUZZ_CHECK(verifyHello(frame, &key, "a", "b", "AB:CD") != nullptr);
    } else if (*type == "ack") {
      (void)linkFrameSeq(frame, "seq");
    } else if (*type == "msg" && frame.contains("m")) {
      try {
        (void)ifmesh::ifmessageFromJsonValue(frame["m"]);
      } catch (const ifmesh::Error&) {
        continue;
      }
      (void)linkFrameSeq(frame, "s");
      // A hop count is a count: the agent adds 1 to it and compares with its hop limit.
      int hops = linkFrameHops(frame);
      FUZZ_CHECK(hops >= 0 && hops < 1 << 30);
    }
  }
  return 0;
}
