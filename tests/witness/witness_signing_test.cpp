// The signed witness log: what a signature proves (a rewrite needs the key), what it cannot (the
// unsigned tail, a cut back to a signed record), and the events written before record() returns.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <sstream>

#include "ifmesh/identity.hpp"
#include "ifmesh/witness.hpp"
#include "witness/witness_files.hpp"

namespace ifmesh {
namespace {

using test::lines;
using test::rewrite;
using test::TempFile;

FileWitnessOptions signedBy(const AgentIdentity& identity, std::size_t signEvery = 64) {
  FileWitnessOptions o;
  o.signer = witnessSigner(identity, "agent-a");
  o.signEvery = signEvery;
  return o;
}

void writeEvents(const std::string& path, FileWitnessOptions options, int n, int offset = 0) {
  Witness w;
  w.addSink(std::make_shared<FileWitnessSink>(path, std::move(options)));
  for (int i = 0; i < n; ++i) w.emit("ifmessage_sent", "agent-a", "agent-b", {{"n", i + offset}});
  w.flush();
}

VerifyResult verifyWith(const std::string& path, const AgentIdentity& key) {
  return verifyWitnessFile(path, {{key.publicKey()}});
}

// Recomputes every record's hash and prev_hash from line `from` (0-based) on, as someone without
// the key would after changing a record. Signatures are dropped where `dropSignatures`, kept
// (stale) otherwise.
void rehashFrom(std::vector<std::string>& ls, std::size_t from, bool dropSignatures) {
  std::string prev = from == 0 ? std::string(64, '0') : sha256Hex(ls[from - 1]);
  for (std::size_t i = from; i < ls.size(); ++i) {
    auto j = nlohmann::json::parse(ls[i]);
    std::optional<nlohmann::json> sig;
    if (j.contains("sig")) sig = j["sig"];
    j.erase("hash");
    j.erase("sig");
    j["prev_hash"] = prev;
    j["hash"] = sha256Hex(j.dump());
    if (sig && !dropSignatures) j["sig"] = *sig;
    ls[i] = j.dump();
    prev = sha256Hex(ls[i]);
  }
}

TEST(WitnessSigning, ASignedLogNamesItsKeyAndVerifiesWithIt) {
  TempFile f;
  auto id = AgentIdentity::generate();
  writeEvents(f.path, signedBy(id, 4), 20);
  auto ls = lines(f.path);
  ASSERT_EQ(ls.size(), 21u);
  auto first = nlohmann::json::parse(ls[0]);
  EXPECT_EQ(first["event"], "witness_signing_key");
  EXPECT_EQ(first["agent_id"], "agent-a");
  EXPECT_EQ(first["metadata"]["public_key"], id.publicKey());
  EXPECT_TRUE(first.contains("sig"));
  // Never more than signEvery - 1 unsigned records in a row, and the last record is signed.
  std::size_t run = 0;
  for (const auto& l : ls) {
    run = nlohmann::json::parse(l).contains("sig") ? 0 : run + 1;
    EXPECT_LT(run, 4u);
  }
  EXPECT_EQ(run, 0u);
  auto r = verifyWith(f.path, id);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.records, 21u);
  EXPECT_TRUE(r.keysPinned);
  EXPECT_EQ(r.keys, std::vector<std::string>{id.publicKey()});
  EXPECT_EQ(r.signedRecords, 21u);
  EXPECT_EQ(r.unsignedTail, 0u);
  EXPECT_GE(r.signatures, 6u);
  // Unpinned, the log's own key is used.
  auto unpinned = verifyWitnessFile(f.path);
  EXPECT_TRUE(unpinned.ok) << unpinned.reason;
  EXPECT_FALSE(unpinned.keysPinned);
  EXPECT_EQ(unpinned.signatures, r.signatures);
}

TEST(WitnessSigning, ARewrittenAndRehashedRecordIsDetectedWithTheKey) {
  TempFile f;
  auto id = AgentIdentity::generate();
  writeEvents(f.path, signedBy(id, 1), 10);
  auto original = lines(f.path);
  ASSERT_EQ(original.size(), 11u);
  auto altered = original;
  auto j = nlohmann::json::parse(altered[5]);
  j["metadata"]["n"] = 999;
  altered[5] = j.dump();

  // Hashes recomputed, signatures left: the chain holds, the signature does not.
  auto kept = altered;
  rehashFrom(kept, 5, false);
  rewrite(f.path, kept);
  EXPECT_FALSE(verifyWitnessFile(f.path).ok);
  auto r = verifyWith(f.path, id);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.firstBadLine, 6u);
  EXPECT_NE(r.reason.find("signature does not verify"), std::string::npos) << r.reason;

  // Signatures dropped from the altered record on: it verifies, but only as the unsigned tail.
  auto dropped = altered;
  rehashFrom(dropped, 5, true);
  rewrite(f.path, dropped);
  r = verifyWith(f.path, id);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.signedRecords, 5u);
  EXPECT_EQ(r.unsignedTail, 6u);

  // Every signature and the key record dropped: a hash chain only, which a pinned key refuses.
  auto stripped = altered;
  stripped.erase(stripped.begin());
  for (auto& l : stripped) {
    auto k = nlohmann::json::parse(l);
    k["seq"] = k["seq"].get<std::uint64_t>() - 1;
    l = k.dump();
  }
  rehashFrom(stripped, 0, true);
  rewrite(f.path, stripped);
  auto chainOnly = verifyWitnessFile(f.path);
  EXPECT_TRUE(chainOnly.ok) << chainOnly.reason;
  EXPECT_EQ(chainOnly.signatures, 0u);
  EXPECT_EQ(chainOnly.unsignedTail, 10u);
  r = verifyWith(f.path, id);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.firstBadLine);
  EXPECT_NE(r.reason.find("not signed"), std::string::npos) << r.reason;
}

TEST(WitnessSigning, ALogSignedWithAnotherKeyFailsWithTheKey) {
  TempFile f;
  auto mine = AgentIdentity::generate();
  auto theirs = AgentIdentity::generate();
  writeEvents(f.path, signedBy(theirs), 5);
  auto r = verifyWith(f.path, mine);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.firstBadLine, 1u);
  EXPECT_NE(r.reason.find("another key"), std::string::npos) << r.reason;
  // Several trusted keys: any of them may sign.
  EXPECT_TRUE(verifyWitnessFile(f.path, {{mine.publicKey(), theirs.publicKey()}}).ok);

  // A signature made with another key than the one the log names fails too.
  TempFile g;
  writeEvents(g.path, signedBy(mine, 1), 3);
  auto ls = lines(g.path);
  auto j = nlohmann::json::parse(ls[2]);
  j["sig"] = theirs.sign(witnessSignedBytes(j["hash"].get<std::string>()));
  ls[2] = j.dump();
  rehashFrom(ls, 3, false);
  rewrite(g.path, ls);
  r = verifyWitnessFile(g.path);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.firstBadLine, 3u);
}

// Records appended without the key (or by a writer without one) are reported as the unsigned
// tail; cutting them off, or cutting back to any signed record, leaves a log that verifies.
TEST(WitnessSigning, TheTailAfterTheLastSignatureIsReported) {
  TempFile f;
  auto id = AgentIdentity::generate();
  writeEvents(f.path, signedBy(id), 5);
  writeEvents(f.path, {}, 3, 5);  // no signer: unsigned
  auto r = verifyWith(f.path, id);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.records, 9u);
  EXPECT_EQ(r.signedRecords, 6u);
  EXPECT_EQ(r.unsignedTail, 3u);
  auto ls = lines(f.path);
  ls.resize(7);
  rewrite(f.path, ls);
  r = verifyWith(f.path, id);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.unsignedTail, 1u);
  ls.resize(6);
  rewrite(f.path, ls);
  r = verifyWith(f.path, id);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.records, 6u);
  EXPECT_EQ(r.unsignedTail, 0u);
}

// A log resumed by a writer with another key names the new key; the old part stays covered by
// the old key's signatures, and the first new signature covers all that came before.
TEST(WitnessSigning, AResumedLogNamesEachKeyAndATornLineIsRecovered) {
  TempFile f;
  auto first = AgentIdentity::generate();
  auto second = AgentIdentity::generate();
  writeEvents(f.path, {}, 2);  // an unsigned beginning
  writeEvents(f.path, signedBy(first), 3, 2);
  std::ofstream(f.path, std::ios::app) << R"({"seq":7,"event":"ifmessage_se)";
  writeEvents(f.path, signedBy(second), 2, 5);
  auto ls = lines(f.path);
  ASSERT_EQ(ls.size(), 10u);
  EXPECT_EQ(nlohmann::json::parse(ls[6])["event"], "witness_torn_record_discarded");
  EXPECT_EQ(nlohmann::json::parse(ls[7])["event"], "witness_signing_key");
  auto r = verifyWitnessFile(f.path, {{first.publicKey(), second.publicKey()}});
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.keys, (std::vector<std::string>{first.publicKey(), second.publicKey()}));
  EXPECT_EQ(r.unsignedTail, 0u);
  EXPECT_FALSE(verifyWith(f.path, first).ok);
}

// A last line without its newline is kept only when it is a record the verifier accepts: a
// whole signed record is kept; one whose hash holds but whose signature is another key's is cut.
TEST(WitnessSigning, AWholeLastRecordIsKeptOnlyWhenItsSignatureHolds) {
  TempFile f;
  auto id = AgentIdentity::generate();
  writeEvents(f.path, signedBy(id, 1), 3);
  auto ls = lines(f.path);
  auto writeWithoutLastNewline = [&](const std::vector<std::string>& content) {
    std::ofstream out(f.path, std::ios::trunc);
    for (std::size_t i = 0; i < content.size(); ++i)
      out << content[i] << (i + 1 < content.size() ? "\n" : "");
  };
  writeWithoutLastNewline(ls);
  writeEvents(f.path, signedBy(id), 1, 3);
  EXPECT_EQ(lines(f.path).at(3), ls[3]);
  EXPECT_TRUE(verifyWith(f.path, id).ok);

  auto forged = ls;
  auto j = nlohmann::json::parse(forged[3]);
  j["sig"] = AgentIdentity::generate().sign(witnessSignedBytes(j["hash"].get<std::string>()));
  forged[3] = j.dump();
  writeWithoutLastNewline(forged);
  writeEvents(f.path, signedBy(id), 1, 3);
  auto after = lines(f.path);
  ASSERT_GE(after.size(), 4u);
  EXPECT_EQ(nlohmann::json::parse(after[3])["event"], "witness_torn_record_discarded");
  auto r = verifyWith(f.path, id);
  EXPECT_TRUE(r.ok) << r.reason;
}

// The agent hands over its key after the sink was made: everything before is covered by the
// first signature.
TEST(WitnessSigning, ASignerHandedOverLaterCoversWhatCameBefore) {
  TempFile f;
  auto id = AgentIdentity::generate();
  {
    Witness w;
    w.addSink(std::make_shared<FileWitnessSink>(f.path));
    w.emit("early", "agent-a", "");
    w.setSigner(witnessSigner(id, "agent-a"));
    w.setSigner(witnessSigner(AgentIdentity::generate(), "agent-b"));  // the first one counts
    w.emit("late", "agent-a", "");
  }
  auto r = verifyWith(f.path, id);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.records, 3u);
  EXPECT_EQ(r.unsignedTail, 0u);
}

TEST(WitnessSigning, HostileKeyRecordsFailCleanly) {
  for (const std::string meta :
       {R"({})", R"({"public_key":5})", R"({"public_key":"not base64"})", R"("x")"}) {
    nlohmann::json j = {{"seq", 1},
                        {"event", "witness_signing_key"},
                        {"agent_id", ""},
                        {"peer_id", ""},
                        {"trace_id", ""},
                        {"timestamp", ""},
                        {"metadata", nlohmann::json::parse(meta)},
                        {"prev_hash", std::string(64, '0')}};
    j["hash"] = sha256Hex(j.dump());
    j["sig"] = "AAAA";
    std::istringstream in(j.dump() + "\n");
    auto r = verifyWitnessStream(in);
    EXPECT_FALSE(r.ok) << meta;
    EXPECT_EQ(r.firstBadLine, 1u);
  }
  std::istringstream numericSig(R"({"sig":1,"hash":"x"})"
                                "\n");
  EXPECT_FALSE(verifyWitnessStream(numericSig).ok);
}

// Events in syncEvents are in the file, signed, when record() returns: a process killed right
// after (SIGKILL, no chance to flush) leaves them on disk.
TEST(WitnessSigning, SyncEventsSurviveTheProcessBeingKilled) {
  TempFile f;
  auto id = AgentIdentity::generate();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    {
      FileWitnessOptions o = signedBy(id, 1000);
      FileWitnessSink sink(f.path, o);
      for (int i = 0; i < 200; ++i) {
        WitnessEvent e;
        e.event = i == 150 ? "peer_auth_failed" : "ifmessage_sent";
        e.metadata = {{"n", i}};
        sink.record(e);
        if (i == 150) {
          char byte = 1;
          if (::write(ready[1], &byte, 1) != 1) ::_exit(2);
        }
      }
      // Killed here or while writing: nothing after this point runs to the end.
      for (;;) ::pause();
    }
  }
  ::close(ready[1]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));

  // The writer may have been killed mid-line after the sync event: the torn line is what a
  // writer reopening the file cuts; the complete lines before it verify.
  auto ls = lines(f.path);
  std::size_t syncLine = 0;
  std::string complete;
  for (std::size_t i = 0; i < ls.size(); ++i) {
    auto j = nlohmann::json::parse(ls[i], nullptr, false);
    if (j.is_discarded()) break;
    complete += ls[i] + "\n";
    if (j["event"] == "peer_auth_failed") syncLine = i + 1;
  }
  ASSERT_GT(syncLine, 0u) << "the sync event was lost";
  std::istringstream in(complete);
  auto r = verifyWitnessStream(in, {{id.publicKey()}});
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_GE(r.records, 152u);  // the key record and events 0-150
  EXPECT_GE(r.signedRecords, syncLine);
  // Reopening recovers the file, and the result verifies.
  writeEvents(f.path, signedBy(id), 1);
  auto reopened = verifyWith(f.path, id);
  EXPECT_TRUE(reopened.ok) << reopened.reason;
  EXPECT_EQ(reopened.unsignedTail, 0u);
}

TEST(WitnessSigning, SignEveryZeroIsRefused) {
  TempFile f;
  FileWitnessOptions o;
  o.signEvery = 0;
  EXPECT_THROW(FileWitnessSink(f.path, o), std::runtime_error);
}

}  // namespace
}  // namespace ifmesh
