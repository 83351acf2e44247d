// SDP offers and answers from the remote peer (via signaling): parse either kind, and check that
// what we generate from a parsed description parses again to the same session.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "ifmesh/error.hpp"
#include "rtc/sdp.hpp"

using ifmesh::rtc::sdp::SessionDescription;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto type : {SessionDescription::Type::Offer, SessionDescription::Type::Answer}) {
    SessionDescription d;
    try {
      d = ifmesh::rtc::sdp::parse(text, type);
    } catch (const ifmesh::Error&) {
      continue;  // the documented way to reject; anything else escapes and is reported
    }
    std::string out = ifmesh::rtc::sdp::serialize(d);
    // Only the simple shape must round-trip: rejected media sections and merged session-level
    // candidates can legitimately push a serialized answer over the parser's limits.
    if (!d.otherMedia.empty() || d.candidates.size() > 256 || out.size() > 64 * 1024) continue;
    SessionDescription again = ifmesh::rtc::sdp::parse(out, type);
    FUZZ_CHECK(again.iceUfrag == d.iceUfrag && again.icePwd == d.icePwd);
    FUZZ_CHECK(again.fingerprintAlgorithm == d.fingerprintAlgorithm);
    FUZZ_CHECK(again.fingerprint == d.fingerprint);
    FUZZ_CHECK(again.setup == d.setup && again.mid == d.mid && again.sctpPort == d.sctpPort);
    FUZZ_CHECK(again.maxMessageSize == d.maxMessageSize);
    FUZZ_CHECK(again.candidates == d.candidates && again.endOfCandidates == d.endOfCandidates);
  }
  return 0;
}
