// crossCheckWitnessFile: another agent's log as evidence against a log. Only heads signed by the
// log's key count; a cut past a seen head and a rewritten record are named; a broken peer log is
// not used.
#include <gtest/gtest.h>

#include "ifmesh/identity.hpp"
#include "ifmesh/witness.hpp"
#include "witness/witness_files.hpp"

namespace ifmesh {
namespace {

using test::lines;
using test::rewrite;
using test::TempFile;

struct Logs {
  AgentIdentity aKey = AgentIdentity::generate();
  AgentIdentity bKey = AgentIdentity::generate();
  TempFile a, b;
  std::optional<WitnessHead> head;  // a's, as b saw it last

  // a writes n events; b records a's head afterwards.
  void write(int n) {
    {
      FileWitnessOptions o;
      o.signer = witnessSigner(aKey, "a");
      FileWitnessSink sink(a.path, o);
      for (int i = 0; i < n; ++i)
        sink.record({"ifmessage_sent", "a", "b", "", isoTimestampNow(), {{"n", i}}});
      sink.flush();
      head = sink.signedHead();
    }
    ASSERT_TRUE(head);
    see(*head);
  }

  void see(const WitnessHead& h, const std::string& about = "a") {
    FileWitnessOptions o;
    o.signer = witnessSigner(bKey, "b");
    FileWitnessSink sink(b.path, o);
    sink.record({kPeerWitnessHeadEvent,
                 "b",
                 about,
                 "",
                 isoTimestampNow(),
                 {{"seq", h.seq}, {"hash", h.hash}, {"sig", h.sig}}});
    sink.flush();
  }

  CrossCheckResult check() { return crossCheckWitnessFile(a.path, {b.path}, {aKey.publicKey()}); }
};

TEST(CrossCheck, HeadIsTheLastSignedRecord) {
  Logs l;
  l.write(10);
  auto ls = lines(l.a.path);
  ASSERT_EQ(l.head->seq, ls.size());
  auto last = nlohmann::json::parse(ls.back());
  EXPECT_EQ(l.head->hash, last["hash"]);
  EXPECT_EQ(l.head->sig, last["sig"]);
  EXPECT_EQ(l.head->publicKey, l.aKey.publicKey());
  EXPECT_EQ(l.head->events, ls.size());
}

TEST(CrossCheck, IntactLogMatches) {
  Logs l;
  l.write(10);
  auto r = l.check();
  EXPECT_TRUE(r.ok);
  ASSERT_EQ(r.peers.size(), 1u);
  EXPECT_EQ(r.peers[0].heads, 1u);
  EXPECT_EQ(r.peers[0].latestSeq, l.head->seq);
  EXPECT_TRUE(r.peers[0].findings.empty());
}

TEST(CrossCheck, CutPastASeenHead) {
  Logs l;
  l.write(10);
  auto ls = lines(l.a.path);
  ls.resize(1);  // back to the signed key record
  rewrite(l.a.path, ls);
  auto r = l.check();
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.peers[0].findings.size(), 1u);
  EXPECT_EQ(r.peers[0].findings[0],
            "truncated: b saw seq " + std::to_string(l.head->seq) + ", log ends at 1");
}

TEST(CrossCheck, ReplacedByAnotherLog) {
  Logs l;
  l.write(10);
  std::filesystem::remove(l.a.path);
  {
    FileWitnessOptions o;
    o.signer = witnessSigner(l.aKey, "a");
    FileWitnessSink sink(l.a.path, o);
    for (int i = 0; i < 20; ++i)
      sink.record({"ifmessage_sent", "a", "c", "", isoTimestampNow(), {{"n", i}}});
  }
  auto r = l.check();
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.peers[0].findings.size(), 1u);
  EXPECT_EQ(r.peers[0].findings[0].rfind("rewritten at seq " + std::to_string(l.head->seq), 0), 0u)
      << r.peers[0].findings[0];
}

TEST(CrossCheck, FabricatedHeadProvesNothing) {
  Logs l;
  l.write(5);
  // b claims a head of a far past a's end, signed with b's own key: not evidence.
  WitnessHead fake{1000, sha256Hex("x"), l.bKey.sign(witnessSignedBytes(sha256Hex("x"))), "", 0};
  l.see(fake);
  auto r = l.check();
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.peers[0].heads, 1u);
  EXPECT_EQ(r.peers[0].unverifiable, 1u);
  // A head about another agent is not about this log at all.
  l.see(fake, "c");
  EXPECT_EQ(l.check().peers[0].unverifiable, 1u);
}

TEST(CrossCheck, BrokenPeerLogIsNotUsed) {
  Logs l;
  l.write(5);
  auto ls = lines(l.b.path);
  ls.back().replace(ls.back().find("\"peer_id\":\"a\""), 13, "\"peer_id\":\"z\"");
  rewrite(l.b.path, ls);
  auto r = l.check();
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.peers[0].usable);
  EXPECT_NE(r.peers[0].reason.find("altered"), std::string::npos) << r.peers[0].reason;
}

}  // namespace
}  // namespace ifmesh
