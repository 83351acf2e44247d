// DCEP messages (DATA_CHANNEL_OPEN / ACK) as they arrive on an SCTP stream with PPID 50: decode,
// and check that a decoded message encodes back to exactly the same bytes.
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

#include "fuzz_check.hpp"
#include "ifmesh/error.hpp"
#include "rtc/dcep.hpp"

namespace dcep = ifmesh::rtc::dcep;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  dcep::Message message;
  try {
    message = dcep::decode(bytes);
  } catch (const ifmesh::Error&) {
    return 0;
  }
  std::vector<std::byte> encoded;
  if (auto* open = std::get_if<dcep::Open>(&message)) {
    (void)dcep::isOrdered(open->channelType);
    (void)dcep::isReliable(open->channelType);
    encoded = dcep::encodeOpen(*open);
  } else {
    encoded = dcep::encodeAck();
  }
  FUZZ_CHECK(std::equal(encoded.begin(), encoded.end(), bytes.begin(), bytes.end()));
  return 0;
}
