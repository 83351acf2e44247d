// Datagrams of many connections on one socket (src/ice/datagram_demux.hpp): STUN by ufrag and
// transaction, DTLS by mux tag or by source address, and everything else dropped.
#include "ice/datagram_demux.hpp"

#include <gtest/gtest.h>

#include "ice_addresses.hpp"

namespace ifmesh::ice {
namespace {

StunAddress at(std::uint8_t last, std::uint16_t port) {
  return test::ipv4(127, 0, 0, last, port);
}

std::vector<std::uint8_t> request(const std::string& username, std::uint8_t transaction = 1) {
  StunMessage m;
  m.transactionId[0] = transaction;
  m.add(stun_attribute::kUsername, username);
  return serializeStun(m, stunBytes("password"), true);
}

std::vector<std::uint8_t> response(std::uint8_t transaction) {
  StunMessage m;
  m.messageClass = StunClass::Success;
  m.transactionId[0] = transaction;
  return serializeStun(m, stunBytes("password"), true);
}

const std::vector<std::uint8_t> kDtls = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0};

TEST(IceDatagramDemux, StunFindsItsConnectionByUfragOrByTransaction) {
  DatagramDemux demux;
  ASSERT_TRUE(demux.add(1, "ufA", 0));
  ASSERT_TRUE(demux.add(2, "ufB", 0));
  EXPECT_FALSE(demux.add(3, "ufA", 0));  // a ufrag names one connection
  EXPECT_FALSE(demux.add(2, "ufC", 0));
  const auto peer = at(1, 5000);  // one peer address for both: the ufrag tells them apart
  auto a = demux.classify(request("ufA:x"), peer);
  EXPECT_EQ(a.kind, Demuxed::Kind::StunRequest);
  EXPECT_EQ(a.connection, 1u);
  ASSERT_TRUE(a.stun);
  EXPECT_EQ(demux.classify(request("ufB:y"), peer).connection, 2u);
  EXPECT_EQ(demux.classify(request("nobody:y"), peer).kind, Demuxed::Kind::Dropped);
  EXPECT_EQ(demux.classify(request("no-colon"), peer).kind, Demuxed::Kind::Dropped);

  TransactionId t{};
  t[0] = 9;
  EXPECT_EQ(demux.classify(response(9), peer).kind, Demuxed::Kind::Dropped);
  demux.expectResponse(t, 2);
  auto r = demux.classify(response(9), peer);
  EXPECT_EQ(r.kind, Demuxed::Kind::StunResponse);
  EXPECT_EQ(r.connection, 2u);
  demux.forgetResponse(t);
  EXPECT_EQ(demux.classify(response(9), peer).kind, Demuxed::Kind::Dropped);
}

TEST(IceDatagramDemux, TaggedDtlsOfManyConnectionsBetweenTwoAddressesFindsEach) {
  DatagramDemux demux;
  const auto peer = at(2, 6000);
  for (ConnectionId id = 1; id <= 100; ++id) {
    ASSERT_TRUE(demux.add(id, "uf" + std::to_string(id), 1000 + static_cast<std::uint32_t>(id)));
    ASSERT_TRUE(demux.allowRemote(id, peer));  // all of them with the same peer address
  }
  for (ConnectionId id = 1; id <= 100; ++id) {
    auto datagram = DatagramDemux::tagged(1000 + static_cast<std::uint32_t>(id), kDtls);
    auto d = demux.classify(datagram, peer);
    ASSERT_EQ(d.kind, Demuxed::Kind::Dtls) << d.dropped;
    EXPECT_EQ(d.connection, id);
    EXPECT_EQ(std::vector<std::uint8_t>(d.payload.begin(), d.payload.end()), kDtls);
  }
  // A tag from an address ICE did not prove for it, an unknown tag, a tag before no DTLS
  // record, a cut tag: dropped.
  EXPECT_EQ(demux.classify(DatagramDemux::tagged(1001, kDtls), at(3, 6000)).kind,
            Demuxed::Kind::Dropped);
  EXPECT_EQ(demux.classify(DatagramDemux::tagged(7, kDtls), peer).kind, Demuxed::Kind::Dropped);
  EXPECT_EQ(
      demux.classify(DatagramDemux::tagged(1001, std::vector<std::uint8_t>{0x80, 1}), peer).kind,
      Demuxed::Kind::Dropped);
  EXPECT_EQ(demux.classify(std::vector<std::uint8_t>{kMuxTagByte, 0, 0, 3, 0xe9}, peer).kind,
            Demuxed::Kind::Dropped);
  // Untagged DTLS from the shared address names no connection.
  EXPECT_EQ(demux.classify(kDtls, peer).kind, Demuxed::Kind::Dropped);
  demux.remove(1);
  EXPECT_EQ(demux.classify(DatagramDemux::tagged(1001, kDtls), peer).kind, Demuxed::Kind::Dropped);
  EXPECT_EQ(demux.connections(), 99u);
}

TEST(IceDatagramDemux, PlainDtlsFindsItsConnectionByAnAddressOnlyOneHolds) {
  DatagramDemux demux;
  ASSERT_TRUE(demux.add(1, "a", 0));
  ASSERT_TRUE(demux.add(2, "b", 0));
  const auto browser = at(4, 7000);
  EXPECT_EQ(demux.classify(kDtls, browser).kind, Demuxed::Kind::Dropped);
  ASSERT_TRUE(demux.allowRemote(1, browser));
  EXPECT_TRUE(demux.allowRemote(1, browser));
  EXPECT_FALSE(demux.allowRemote(2, browser));  // plain DTLS from it could not be told apart
  auto d = demux.classify(kDtls, browser);
  EXPECT_EQ(d.kind, Demuxed::Kind::Dtls);
  EXPECT_EQ(d.connection, 1u);
  demux.remove(1);
  EXPECT_EQ(demux.classify(kDtls, browser).kind, Demuxed::Kind::Dropped);
  EXPECT_TRUE(demux.allowRemote(2, browser));
}

// A connection that announced a tag to a peer that sends none (a browser, a libnice end): once
// untagged, its plain DTLS is routed by the addresses ICE proved, and tagged DTLS no more.
TEST(IceDatagramDemux, AConnectionUntaggedTakesPlainDtlsFromItsProvenAddresses) {
  DatagramDemux demux;
  ASSERT_TRUE(demux.add(1, "ufA", 77));
  ASSERT_TRUE(demux.allowRemote(1, at(1, 5000)));
  EXPECT_EQ(demux.classify(kDtls, at(1, 5000)).kind, Demuxed::Kind::Dropped);
  ASSERT_TRUE(demux.untag(1));
  auto plain = demux.classify(kDtls, at(1, 5000));
  EXPECT_EQ(plain.kind, Demuxed::Kind::Dtls);
  EXPECT_EQ(plain.connection, 1u);
  EXPECT_EQ(demux.classify(DatagramDemux::tagged(77, kDtls), at(1, 5000)).kind,
            Demuxed::Kind::Dropped);
  EXPECT_TRUE(demux.untag(1));  // already untagged: nothing to do
  // The tag is free again; an address another untagged connection holds cannot be taken.
  ASSERT_TRUE(demux.add(2, "ufB", 77));
  ASSERT_TRUE(demux.allowRemote(2, at(1, 5000)));
  EXPECT_FALSE(demux.untag(2));
  EXPECT_EQ(demux.classify(kDtls, at(1, 5000)).connection, 1u);
  EXPECT_FALSE(demux.untag(9));  // no such connection
}

TEST(IceDatagramDemux, EverythingElseIsDroppedWithAReason) {
  DatagramDemux demux;
  ASSERT_TRUE(demux.add(1, "a", 0));
  const auto src = at(5, 8000);
  for (const auto& bytes : std::vector<std::vector<std::uint8_t>>{
           {}, {0}, {1, 2, 3}, {64, 0, 0, 4, 1, 2, 3, 4}, {128, 1}, {255}, {0x17}}) {
    auto d = demux.classify(bytes, src);
    EXPECT_EQ(d.kind, Demuxed::Kind::Dropped);
    EXPECT_STRNE(d.dropped, "");
  }
  auto bad = request("a:b");
  bad.back() ^= 1;  // FINGERPRINT no longer matches
  EXPECT_EQ(demux.classify(bad, src).kind, Demuxed::Kind::Dropped);
}

}  // namespace
}  // namespace ifmesh::ice
