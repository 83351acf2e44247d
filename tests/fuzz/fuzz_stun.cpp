// Datagrams as they would arrive on an ICE socket: the demultiplexer of a shared socket names a
// connection only for what it may route (and a payload inside the datagram); STUN reads, and a
// message that reads writes back to one that reads the same (attributes, class, method,
// transaction), the integrity check runs on whatever arrived, and every attribute decoder takes
// whatever value it is given.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "fuzz_check.hpp"
#include "ice/datagram_demux.hpp"
#include "ice/stun_message.hpp"

namespace ice = ifmesh::ice;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> datagram(data, size);
  // Two connections: one a browser's (plain DTLS from its address), one behind mux tag 7.
  static const ice::DatagramDemux demux = [] {
    ice::DatagramDemux d;
    ice::StunAddress browser, agent;
    browser.ip = {127, 0, 0, 1};
    browser.port = 1000;
    agent.ip = {127, 0, 0, 1};
    agent.port = 2000;
    d.add(1, "ufr1", 0);
    d.add(2, "ufr2", 7);
    d.allowRemote(1, browser);
    d.allowRemote(2, agent);
    return d;
  }();
  ice::StunAddress source;
  source.ip = {127, 0, 0, 1};
  source.port = size > 0 && data[size - 1] % 2 ? 1000 : 2000;
  auto routed = demux.classify(datagram, source);
  if (routed.kind == ice::Demuxed::Kind::Dropped) {
    FUZZ_CHECK(routed.dropped[0] != '\0');
  } else {
    FUZZ_CHECK(routed.connection == 1 || routed.connection == 2);
    FUZZ_CHECK(routed.payload.data() >= data &&
               routed.payload.data() + routed.payload.size() <= data + size);
  }
  if (routed.kind == ice::Demuxed::Kind::Dtls) {
    FUZZ_CHECK(!routed.payload.empty() && routed.payload[0] >= 20 && routed.payload[0] <= 63);
  }
  (void)ice::looksLikeStun(datagram);
  std::string error;
  auto parsed = ice::parseStun(datagram, &error);
  if (!parsed) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  FUZZ_CHECK(ice::looksLikeStun(datagram));
  static const std::string key = "VOkJxbRl1RmTxUk/WvJxBt";
  const auto keyBytes = ice::stunBytes(key);
  (void)ice::checkIntegrity(datagram, *parsed, keyBytes);
  const auto& m = parsed->message;
  for (const auto& a : m.attributes) {
    (void)ice::decodeXorAddress(a.value, m.transactionId);
    (void)ice::decodeErrorCode(a.value);
    (void)ice::decodeUint32(a.value);
    (void)ice::decodeUint64(a.value);
  }
  const auto again = ice::serializeStun(m, keyBytes, true);
  auto reread = ice::parseStun(again, &error);
  FUZZ_CHECK(reread);
  FUZZ_CHECK(reread->message.method == m.method);
  FUZZ_CHECK(reread->message.messageClass == m.messageClass);
  FUZZ_CHECK(reread->message.transactionId == m.transactionId);
  FUZZ_CHECK(reread->message.attributes.size() == m.attributes.size());
  for (std::size_t i = 0; i < m.attributes.size(); ++i) {
    FUZZ_CHECK(reread->message.attributes[i].type == m.attributes[i].type);
    FUZZ_CHECK(reread->message.attributes[i].value == m.attributes[i].value);
  }
  FUZZ_CHECK(reread->fingerprint);
  FUZZ_CHECK(ice::checkIntegrity(again, *reread, keyBytes));
  return 0;
}
