// Trickled ICE candidate lines from the remote peer: parse, and check that serializing a parsed
// candidate gives a line that parses to the same candidate.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "ifmesh/error.hpp"
#include "rtc/candidate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  ifmesh::rtc::IceCandidate c;
  try {
    c = ifmesh::rtc::parseCandidate(line);
  } catch (const ifmesh::Error&) {
    return 0;
  }
  (void)ifmesh::rtc::isMdnsHostname(c.address);
  ifmesh::rtc::IceCandidate again = ifmesh::rtc::parseCandidate(ifmesh::rtc::serializeCandidate(c));
  FUZZ_CHECK(again.foundation == c.foundation && again.component == c.component);
  FUZZ_CHECK(again.transport == c.transport && again.priority == c.priority);
  FUZZ_CHECK(again.address == c.address && again.port == c.port && again.type == c.type);
  FUZZ_CHECK(again.relatedAddress == c.relatedAddress && again.relatedPort == c.relatedPort);
  FUZZ_CHECK(again.tcpType == c.tcpType && again.extensions == c.extensions);
  return 0;
}
