// IFMessage JSON as received from another agent: decode from text (and from an already parsed
// value, the path the link uses), and check that a decoded message survives serialization.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "ifmesh/error.hpp"
#include "ifmesh/identity.hpp"
#include "ifmesh/ifmessage.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ifmesh::IFMessage m;
  try {
    m = ifmesh::ifmessageFromJson(text);
  } catch (const ifmesh::Error&) {
    return 0;
  }
  // serialize() writes the text by hand: it must be what the JSON object dumps.
  const std::string wire = ifmesh::serialize(m);
  FUZZ_CHECK(wire == ifmesh::toJson(m).dump());
  ifmesh::IFMessage again = ifmesh::ifmessageFromJson(wire);
  FUZZ_CHECK(again.id == m.id && again.timestamp == m.timestamp && again.level == m.level);
  FUZZ_CHECK(again.source == m.source && again.destination == m.destination);
  FUZZ_CHECK(again.version == m.version && again.sequence == m.sequence);
  FUZZ_CHECK(again.traceId == m.traceId && again.payload == m.payload);
  FUZZ_CHECK(again.incarnation == m.incarnation && again.signature == m.signature);
  // What a receiver verifies: the same canonical form before and after the wire.
  FUZZ_CHECK(ifmesh::canonicalForm(again) == ifmesh::canonicalForm(m));
  ifmesh::IFMessage fromValue = ifmesh::ifmessageFromJsonValue(ifmesh::toJson(m));
  FUZZ_CHECK(fromValue.id == m.id && fromValue.payload == m.payload);
  // A receiver verifies whatever signature arrives: any bytes are a clean "no", never a crash.
  static const auto key = *ifmesh::PublicKey::parse(ifmesh::AgentIdentity::generate().publicKey());
  FUZZ_CHECK(!ifmesh::verifyMessage(m, key));
  return 0;
}
