// Witness head frames ("whead", docs/link-protocol.md): their encoding, and a link session that
// shows its head only to a peer whose hello on this connection said it reads them ("frames":
// ["whead"]), and takes the peer's heads only with a signature by the peer's key. No sockets:
// the peer's frames are made here and fed in.
#include <gtest/gtest.h>

#include "ifmesh/witness.hpp"
#include "mesh/scripted_peer.hpp"

namespace ifmesh::detail::link {
namespace {

using namespace std::chrono_literals;

const std::string kHash(64, 'a');

TEST(LinkWheadCodec, RoundTrips) {
  Whead h{42, kHash, "c2lnbmF0dXJl"};
  const std::string text = encode(h);
  EXPECT_NE(text.find(R"("t":"whead")"), std::string::npos) << text;
  auto frames = decode(text);
  ASSERT_EQ(frames.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<Whead>(frames[0]));
  const auto& back = std::get<Whead>(frames[0]);
  EXPECT_EQ(back.seq, 42u);
  EXPECT_EQ(back.hash, kHash);
  EXPECT_EQ(back.sig, "c2lnbmF0dXJl");
}

TEST(LinkWheadCodec, BadHeadsAreMalformed) {
  const std::string sig = R"("sig":"c2ln")";
  const std::string hash = R"("hash":")" + kHash + "\"";
  for (const std::string& text :
       {R"({"t":"whead","seq":0,)" + hash + "," + sig + "}",
        R"({"t":"whead","seq":-1,)" + hash + "," + sig + "}",
        R"({"t":"whead","seq":"1",)" + hash + "," + sig + "}",
        R"({"t":"whead",)" + hash + "," + sig + "}",
        R"({"t":"whead","seq":1,"hash":"abc",)" + sig + "}",
        R"({"t":"whead","seq":1,"hash":")" + std::string(64, 'A') + "\"," + sig + "}",
        R"({"t":"whead","seq":1,"hash":7,)" + sig + "}", R"({"t":"whead","seq":1,)" + hash + "}",
        R"({"t":"whead","seq":1,)" + hash + R"(,"sig":5})",
        R"({"t":"whead","seq":1,)" + hash + R"(,"sig":")" + std::string(200, 'A') + "\"}"}) {
    auto frames = decode(text);
    ASSERT_EQ(frames.size(), 1u) << text;
    ASSERT_TRUE(std::holds_alternative<Malformed>(frames[0])) << text;
    EXPECT_EQ(std::get<Malformed>(frames[0]).reason.rfind("malformed whead", 0), 0u) << text;
  }
}

TEST(LinkWheadCodec, HelloFramesField) {
  Hello h;
  h.readsWhead = true;
  const std::string text = encode(h);
  EXPECT_NE(text.find(R"("frames":["whead"])"), std::string::npos) << text;
  EXPECT_TRUE(std::get<Hello>(decode(text)[0]).readsWhead);
  h.readsWhead = false;
  EXPECT_EQ(encode(h).find("frames"), std::string::npos) << "announced without reading";
  // Other names are ignored; a wrong type is a malformed hello.
  EXPECT_FALSE(std::get<Hello>(decode(R"({"t":"hello","recv":0,"frames":["x"]})")[0]).readsWhead);
  for (const char* bad :
       {R"({"t":"hello","recv":0,"frames":"whead"})", R"({"t":"hello","recv":0,"frames":[1]})"})
    EXPECT_TRUE(std::holds_alternative<Malformed>(decode(bad)[0])) << bad;
}

// alice's session, with bob's hellos and heads fed in.
struct Pair : test::ScriptedPeer {
  std::optional<WitnessHead> head;  // alice's own log's head

  explicit Pair(bool readsWhead = true, bool showsHead = true) {
    SessionConfig c = aliceConfig();
    c.readsWhead = readsWhead;
    if (showsHead) c.witnessHead = [this] { return head; };
    c.wheadInterval = 5s;
    c.wheadMinGap = 1s;
    start(std::move(c));
    setHead(3, 3);
  }

  void setHead(std::uint64_t seq, std::uint64_t events) {
    std::string hash = sha256Hex("record " + std::to_string(seq));
    head = WitnessHead{seq, hash, alice.sign(witnessSignedBytes(hash)), alice.publicKey(), events};
  }

  void hello(bool readsWhead) {
    Hello h = bobsHello();
    h.readsWhead = readsWhead;
    session->receive(now, encode(h));
  }

  // The heads alice sent since the last call.
  std::vector<Whead> sentHeads() {
    std::vector<Whead> heads;
    for (const auto& out : session->takeOutput())
      for (auto& f : decode(out.bytes))
        if (auto* h = std::get_if<Whead>(&f)) heads.push_back(*h);
    return heads;
  }

  void bobShows(std::uint64_t seq, const std::string& signedBy = "bob") {
    std::string hash = sha256Hex("bob record " + std::to_string(seq));
    const auto& key = signedBy == "bob" ? bob : alice;
    session->receive(now, encode(Whead{seq, hash, key.sign(witnessSignedBytes(hash))}));
  }

  template <typename E>
  std::vector<E> events() {
    std::vector<E> out;
    for (auto& e : session->takeEvents())
      if (auto* x = std::get_if<E>(&e)) out.push_back(*x);
    return out;
  }
};

TEST(LinkSessionWhead, OurHelloAnnouncesItOnlyWhenWeRecordHeads) {
  for (bool reads : {true, false}) {
    Pair p(reads);
    p.open();
    auto out = p.session->takeOutput();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(std::get<Hello>(decode(out[0].bytes)[0]).readsWhead, reads) << out[0].bytes;
  }
}

TEST(LinkSessionWhead, NeverSentToAPeerThatDoesNotAnnounceIt) {
  Pair p;
  p.open();
  p.hello(false);  // an older agent, or the JS agent
  for (int i = 0; i < 10; ++i) {
    p.setHead(10 + i, 10 + i);
    p.now += 6s;
    p.session->tick(p.now);
    EXPECT_TRUE(p.sentHeads().empty()) << "a head went to a peer that does not read it";
  }
  EXPECT_FALSE(p.session->nextDeadline()) << "a head timer for a peer that does not read it";
}

TEST(LinkSessionWhead, SentOnEachConnectionThenWhileTheLogAdvances) {
  Pair p;
  p.open();
  p.session->takeOutput();
  p.hello(true);
  auto heads = p.sentHeads();
  ASSERT_EQ(heads.size(), 1u) << "no head after the peer's hello";
  EXPECT_EQ(heads[0].seq, 3u);
  EXPECT_EQ(heads[0].hash, p.head->hash);
  EXPECT_TRUE(PublicKey::parse(p.alice.publicKey())
                  ->verify(witnessSignedBytes(heads[0].hash), heads[0].sig));
  // A second hello on the same connection (a resend request) sends no second head.
  p.hello(true);
  EXPECT_TRUE(p.sentHeads().empty());

  // The log advanced: the next head waits for the interval.
  p.setHead(8, 8);
  p.now += 2s;
  p.session->tick(p.now);
  EXPECT_TRUE(p.sentHeads().empty()) << "sooner than the interval";
  ASSERT_TRUE(p.session->nextDeadline());
  p.now = *p.session->nextDeadline();
  p.session->tick(p.now);
  heads = p.sentHeads();
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0].seq, 8u);

  // Grown only by heads it was shown: nothing to show.
  p.setHead(9, 8);
  p.now += 6s;
  p.session->tick(p.now);
  EXPECT_TRUE(p.sentHeads().empty()) << "heads about heads keep two logs growing";

  // A new connection shows the head again.
  p.session->close();
  p.open();
  p.session->takeOutput();
  p.hello(true);
  heads = p.sentHeads();
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0].seq, 9u);
}

TEST(LinkSessionWhead, ClosingShowsTheHeadOnceMoreWhenThePeerWillTakeIt) {
  Pair p;
  p.open();
  p.session->takeOutput();
  p.hello(true);
  ASSERT_EQ(p.sentHeads().size(), 1u);
  // Closing within the peer's minimum gap: the peer would drop a head unread, none is sent.
  p.setHead(6, 6);
  p.now += 500ms;
  p.session->closing(p.now);
  EXPECT_TRUE(p.sentHeads().empty()) << "a head the peer drops unread";
  // Past the gap and before the interval: the head as the log stands at the close, urgent (the
  // connection closes next, and a frame waiting for the send window would go with it).
  p.now += 600ms;
  p.session->closing(p.now);
  auto out = p.session->takeOutput();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].urgent);
  auto frames = decode(out[0].bytes);
  ASSERT_EQ(frames.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<Whead>(frames[0]));
  EXPECT_EQ(std::get<Whead>(frames[0]).seq, 6u);
  // The log did not advance since: nothing new to show.
  p.now += 2s;
  p.session->closing(p.now);
  EXPECT_TRUE(p.sentHeads().empty());
  // In MEDIUM/LOW too: closing sends what waits in the batch, then the head, at once.
  p.session->setBatchDelay(200ms);
  p.setHead(12, 12);
  p.session->closing(p.now);
  auto heads = p.sentHeads();
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0].seq, 12u);
}

TEST(LinkSessionWhead, NoHeadNoFrame) {
  Pair p;
  p.head.reset();  // nothing signed yet
  p.open();
  p.hello(true);
  EXPECT_TRUE(p.sentHeads().empty());
  p.setHead(1, 1);
  p.now += 6s;
  p.session->tick(p.now);
  EXPECT_EQ(p.sentHeads().size(), 1u) << "the first head once there is one";
}

TEST(LinkSessionWhead, TakesAValidPeerHead) {
  Pair p;
  p.open();
  p.hello(true);
  p.session->takeEvents();
  p.bobShows(5);
  auto taken = p.events<PeerWhead>();
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].head.seq, 5u);
  EXPECT_EQ(taken[0].head.hash, sha256Hex("bob record 5"));
  // The same head again: nothing new to record.
  p.now += 2s;
  p.bobShows(5);
  EXPECT_TRUE(p.events<PeerWhead>().empty());
}

TEST(LinkSessionWhead, RejectsAHeadNotSignedByThePeer) {
  Pair p;
  p.open();
  p.hello(true);
  p.session->takeEvents();
  p.bobShows(5, "alice");
  auto events = p.session->takeEvents();
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<Rejected>(events[0]));
  EXPECT_NE(std::get<Rejected>(events[0]).reason.find("signature"), std::string::npos);
  // The link goes on: a valid head later is taken.
  p.now += 2s;
  p.bobShows(6);
  EXPECT_EQ(p.events<PeerWhead>().size(), 1u);
}

TEST(LinkSessionWhead, AFloodIsBoundedAndIgnored) {
  Pair p;
  p.open();
  p.hello(true);
  p.session->takeEvents();
  for (std::uint64_t i = 1; i <= 1000; ++i) p.bobShows(i);  // all at the same instant
  EXPECT_EQ(p.events<PeerWhead>().size(), 1u) << "at most one head per gap";
  p.now += 1s;
  p.bobShows(2000);
  EXPECT_EQ(p.events<PeerWhead>().size(), 1u);
}

TEST(LinkSessionWhead, UnannouncedOrUnauthenticatedHeadsAreRejected) {
  Pair quiet(false);
  quiet.open();
  quiet.hello(true);
  quiet.session->takeEvents();
  quiet.bobShows(5);
  auto events = quiet.session->takeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<Rejected>(events[0]).reason, "whead not announced");

  Pair early;
  early.open();
  early.bobShows(5);  // before bob's hello
  events = early.session->takeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<Rejected>(events[0]).reason, "unauthenticated_link");
}

TEST(LinkSessionWhead, MalformedHeadIsRejected) {
  Pair p;
  p.open();
  p.hello(true);
  p.session->takeEvents();
  p.session->receive(p.now, R"({"t":"whead","seq":1,"hash":"zz","sig":""})");
  auto events = p.session->takeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<Rejected>(events[0]).reason, "malformed whead: bad hash");
}

}  // namespace
}  // namespace ifmesh::detail::link
