// The witness audit trail: hash chain, tamper detection, resume, concurrency.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "ifmesh/witness.hpp"
#include "witness/witness_files.hpp"

namespace ifmesh {
namespace {

using test::lines;
using test::rewrite;
using test::TempFile;

void writeEvents(const std::string& path, int n, int offset = 0) {
  Witness w;
  w.addSink(std::make_shared<FileWitnessSink>(path));
  for (int i = 0; i < n; ++i) w.emit("ifmessage_sent", "agent-a", "agent-b", {{"n", i + offset}});
  w.flush();
}

TEST(Witness, ChainVerifiesAndResumesAcrossReopen) {
  TempFile f;
  writeEvents(f.path, 10);
  writeEvents(f.path, 5, 10);
  auto r = verifyWitnessFile(f.path);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.records, 15u);
  auto first = nlohmann::json::parse(lines(f.path)[0]);
  EXPECT_EQ(first["event"], "ifmessage_sent");
  EXPECT_EQ(first["agent_id"], "agent-a");
  EXPECT_EQ(first["prev_hash"], std::string(64, '0'));
  EXPECT_EQ(first["timestamp"].get<std::string>().back(), 'Z');
}

TEST(Witness, AlteredRecordIsReportedAtItsLine) {
  TempFile f;
  writeEvents(f.path, 10);
  auto ls = lines(f.path);
  auto pos = ls[4].find("\"n\":4");
  ASSERT_NE(pos, std::string::npos);
  ls[4][pos + 4] = '7';
  rewrite(f.path, ls);
  auto r = verifyWitnessFile(f.path);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.firstBadLine, 5u);
}

TEST(Witness, DeletedRecordBreaksTheChain) {
  TempFile f;
  writeEvents(f.path, 10);
  auto ls = lines(f.path);
  ls.erase(ls.begin() + 3);
  rewrite(f.path, ls);
  auto r = verifyWitnessFile(f.path);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.firstBadLine, 4u);
}

TEST(Witness, GarbageIsAFailedVerificationNotACrash) {
  TempFile f;
  rewrite(f.path, {"not json", "{}"});
  auto r = verifyWitnessFile(f.path);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.firstBadLine, 1u);
  EXPECT_FALSE(verifyWitnessFile("/nonexistent/witness.jsonl").ok);
}

TEST(Witness, ConcurrentEmittersAllLandAndCallbacksSeeEvents) {
  TempFile f;
  std::atomic<int> seen{0};
  {
    Witness w;
    w.addSink(std::make_shared<FileWitnessSink>(f.path));
    w.addSink(std::make_shared<CallbackWitnessSink>([&](const WitnessEvent&) { ++seen; }));
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&w, t] {
        for (int i = 0; i < 25000; ++i) w.emit("ifmessage_received", "a" + std::to_string(t), "b");
      });
    for (auto& th : threads) th.join();
    w.flush();
  }
  EXPECT_EQ(seen.load(), 100000);
  auto r = verifyWitnessFile(f.path);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.records, 100000u);
}

TEST(Witness, VerifiesFromAStream) {
  TempFile f;
  writeEvents(f.path, 3);
  std::ifstream file(f.path);
  std::stringstream text;
  text << file.rdbuf();
  auto r = verifyWitnessStream(text);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.records, 3u);
}

// Found by fuzzing: re-dumping a deeply nested line to check its hash overflowed the stack.
TEST(Witness, DeeplyNestedLineFailsWithoutRecursing) {
  std::istringstream in("{\"hash\":\"0\",\"metadata\":" + std::string(300000, '[') +
                        std::string(300000, ']') + "}\n");
  auto r = verifyWitnessStream(in);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.firstBadLine, 1u);
  EXPECT_NE(r.reason.find("nested deeper"), std::string::npos) << r.reason;
}

}  // namespace
}  // namespace ifmesh

namespace ifmesh {
namespace {

using test::lines;
using test::TempFile;

// Text cut inside a multi-byte character (an error message truncated mid-character, bytes a peer
// sent) is recorded with U+FFFD in place of the bad bytes; the writer thread does not throw.
TEST(WitnessHostileInput, InvalidUtf8IsRecordedAndVerifies) {
  TempFile f;
  {
    Witness w;
    w.addSink(std::make_shared<FileWitnessSink>(f.path));
    w.emit("ifmessage_rejected", "agent-a", std::string("peer\xff"),
           {{"reason", std::string("bad SDP: \xe2\x82")}, {"n", 1}});
    w.emit("ifmessage_sent", "agent-a", "agent-b", {{"n", 2}});
    w.flush();
  }
  auto r = verifyWitnessFile(f.path);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.records, 2u);
  auto first = nlohmann::json::parse(lines(f.path).at(0));
  EXPECT_EQ(first["metadata"]["reason"], "bad SDP: \xef\xbf\xbd");
  EXPECT_EQ(first["peer_id"], "peer\xef\xbf\xbd");
}

// A crash mid-write leaves a last line without its newline: reopening cuts it off, records the
// cut (its length and hash), and the chain goes on.
TEST(WitnessHostileInput, ATornLastLineIsCutAndTheCutRecorded) {
  TempFile f;
  writeEvents(f.path, 3);
  const std::string torn = R"({"seq":4,"event":"ifmessage_se)";
  std::ofstream(f.path, std::ios::app) << torn;
  writeEvents(f.path, 1, 3);
  auto r = verifyWitnessFile(f.path);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.records, 5u);
  auto cut = nlohmann::json::parse(lines(f.path).at(3));
  EXPECT_EQ(cut["event"], "witness_torn_record_discarded");
  EXPECT_EQ(cut["metadata"]["bytes"], torn.size());
  EXPECT_EQ(cut["metadata"]["sha256"], sha256Hex(torn));
  EXPECT_EQ(nlohmann::json::parse(lines(f.path).at(4))["metadata"]["n"], 3);
}

// A whole record that only missed its newline is kept, not cut.
TEST(WitnessHostileInput, AWholeRecordWithoutItsNewlineIsKept) {
  TempFile f;
  writeEvents(f.path, 2);
  auto ls = lines(f.path);
  {
    std::ofstream out(f.path, std::ios::trunc);
    out << ls[0] << "\n" << ls[1];  // no newline after the last record
  }
  writeEvents(f.path, 1, 2);
  auto r = verifyWitnessFile(f.path);
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.records, 3u);
  EXPECT_EQ(lines(f.path).at(1), ls[1]);
}

// A corrupt record that ends with a newline is not a torn write: the file is refused, with a
// message that says where and what to do, and left as it was.
TEST(WitnessHostileInput, ACorruptCompleteLastRecordIsRefusedClearly) {
  TempFile f;
  writeEvents(f.path, 2);
  std::ofstream(f.path, std::ios::app) << "not json at all\n";
  const auto before = std::filesystem::file_size(f.path);
  try {
    FileWitnessSink sink(f.path);
    FAIL() << "a corrupt last record was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not a torn write"), std::string::npos) << e.what();
  }
  EXPECT_EQ(std::filesystem::file_size(f.path), before);
}

}  // namespace
}  // namespace ifmesh
