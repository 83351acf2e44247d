// Cross-witnessing with two real agents on 127.0.0.1, each writing its own signed witness log:
// they show each other their heads over the link and record them, and `ifmesh witness verify
// --peer-log` (the real CLI) takes one agent's log as evidence against the other's. A log cut
// back to a signed record, or rewritten and re-hashed without the key, verifies on its own but
// not against what the peer saw; the untouched log passes.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "ifmesh/witness.hpp"
#include "mesh/mesh_fixture.hpp"

namespace ifmesh::test {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> readLines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

void writeLines(const fs::path& p, const std::vector<std::string>& ls) {
  std::ofstream out(p, std::ios::trunc);
  for (const auto& l : ls) out << l << "\n";
}

struct CliRun {
  int exitCode = -1;
  std::string out;
};

std::string quoted(const std::string& arg) {
  std::string q = "'";
  for (char c : arg) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

CliRun ifmesh(const std::vector<std::string>& args, const fs::path& dir) {
  std::string cmd = "timeout 30 " + quoted(IFMESH_CLI_PATH);
  for (const auto& a : args) cmd += " " + quoted(a);
  const fs::path out = dir / "cli-out";
  cmd += " >" + quoted(out.string()) + " 2>&1";
  int status = std::system(cmd.c_str());
  CliRun r;
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(out);
  std::stringstream s;
  s << in.rdbuf();
  r.out = s.str();
  return r;
}

// The highest seq of `about`'s heads recorded in `log`.
std::uint64_t latestHeadSeen(const fs::path& log, const std::string& about) {
  std::uint64_t seq = 0;
  for (const auto& l : readLines(log)) {
    auto j = nlohmann::json::parse(l, nullptr, false);
    if (j.is_discarded() || j.value("event", "") != kPeerWitnessHeadEvent ||
        j.value("peer_id", "") != about)
      continue;
    seq = std::max(seq, j["metadata"]["seq"].get<std::uint64_t>());
  }
  return seq;
}

// Two agents talk, then stop: dir/a.jsonl and dir/b.jsonl are their logs, dir/a.pem a's key.
// Returns the highest seq of a's log that b recorded.
std::uint64_t runPair(const fs::path& dir) {
  auto server = startSignaling();
  auto config = [&](const std::string& id) {
    auto witness = std::make_shared<Witness>();
    witness->addSink(std::make_shared<FileWitnessSink>((dir / (id + ".jsonl")).string()));
    auto c = meshAgentConfig(id, *server, witness);
    c.identity.keyFile = (dir / (id + ".pem")).string();
    c.identity.messageSignatures = MessageSignatures::Relayed;
    return c;
  };
  Inbox inboxA, inboxB;  // outlive the agents that call them
  Agent a(config("a")), b(config("b"));
  inboxA.attach(a);
  inboxB.attach(b);
  b.connectToSignaling();
  EXPECT_TRUE(b.waitRegistered(5s));
  a.connectToSignaling();
  EXPECT_TRUE(a.waitRegistered(5s));
  a.connect("b");
  EXPECT_TRUE(waitFor([&] { return a.peerState("b") == PeerState::Connected; }));
  // Each side's first head follows the hello.
  EXPECT_TRUE(waitFor([&] { return latestHeadSeen(dir / "b.jsonl", "a") > 0; }, 10s, 50ms))
      << "b recorded no head of a's log";
  const std::uint64_t first = latestHeadSeen(dir / "b.jsonl", "a");
  for (int n = 0; n < 20; ++n) {
    a.send("b", numbered(n));
    b.send("a", numbered(n));
  }
  EXPECT_TRUE(waitFor([&] { return inboxA.size() == 20 && inboxB.size() == 20; }));
  // The log advanced by the traffic: a's next head comes within the interval (5 s).
  EXPECT_TRUE(waitFor([&] { return latestHeadSeen(dir / "b.jsonl", "a") > first + 20; }, 15s, 50ms))
      << "b saw no head of a's log after the traffic";
  return latestHeadSeen(dir / "b.jsonl", "a");
}

// The last signed record of `ls` with a seq below `below`, as an index.
std::size_t lastSignedBefore(const std::vector<std::string>& ls, std::uint64_t below) {
  std::size_t found = 0;
  for (std::size_t i = 0; i < ls.size(); ++i) {
    auto j = nlohmann::json::parse(ls[i]);
    if (j["seq"].get<std::uint64_t>() < below && j.contains("sig")) found = i;
  }
  return found;
}

TEST(CrossWitness, PeerLogShowsACutAndARewrite) {
  TempDir dir("ifmesh-xwit");
  const std::uint64_t seen = runPair(dir.path);
  ASSERT_GT(seen, 20u);
  const fs::path a = dir.path / "a.jsonl", b = dir.path / "b.jsonl";
  const std::string key = (dir.path / "a.pem").string();

  // Untouched: intact, and every head b saw matches.
  auto ok =
      ifmesh({"witness", "verify", a.string(), "--key", key, "--peer-log", b.string()}, dir.path);
  EXPECT_EQ(ok.exitCode, 0) << ok.out;
  EXPECT_NE(ok.out.find("cross-witnessed by"), std::string::npos) << ok.out;

  const auto original = readLines(a);
  ASSERT_GE(original.size(), seen);

  // Cut back to a signed record before the head b saw: on its own it verifies, fully signed.
  const std::size_t keep = lastSignedBefore(original, seen) + 1;
  ASSERT_LT(keep, seen);
  const fs::path cut = dir.path / "a-cut.jsonl";
  writeLines(cut, {original.begin(), original.begin() + static_cast<std::ptrdiff_t>(keep)});
  auto alone = ifmesh({"witness", "verify", cut.string(), "--key", key}, dir.path);
  EXPECT_EQ(alone.exitCode, 0) << "a cut back to a signed record verifies alone:\n" << alone.out;
  auto caught =
      ifmesh({"witness", "verify", cut.string(), "--key", key, "--peer-log", b.string()}, dir.path);
  EXPECT_EQ(caught.exitCode, 3) << caught.out;
  EXPECT_NE(caught.out.find("truncated: b saw seq " + std::to_string(seen) + ", log ends at " +
                            std::to_string(keep)),
            std::string::npos)
      << caught.out;

  // Rewrite record 3 and re-hash everything after it, without the key (signatures dropped).
  auto rewritten = original;
  std::string prev = sha256Hex(rewritten[1]);
  for (std::size_t i = 2; i < rewritten.size(); ++i) {
    auto j = nlohmann::json::parse(rewritten[i]);
    j.erase("hash");
    j.erase("sig");
    if (i == 2) j["metadata"]["rewritten"] = true;
    j["prev_hash"] = prev;
    j["hash"] = sha256Hex(j.dump());
    rewritten[i] = j.dump();
    prev = sha256Hex(rewritten[i]);
  }
  const fs::path forged = dir.path / "a-rewritten.jsonl";
  writeLines(forged, rewritten);
  auto r = ifmesh({"witness", "verify", forged.string(), "--key", key, "--peer-log", b.string()},
                  dir.path);
  EXPECT_EQ(r.exitCode, 3) << r.out;
  EXPECT_NE(r.out.find("rewritten at seq "), std::string::npos) << r.out;
  // Without the evidence the rewrite hides in an unsigned tail.
  auto hidden = ifmesh({"witness", "verify", forged.string(), "--key", key}, dir.path);
  EXPECT_EQ(hidden.exitCode, 0) << hidden.out;
  EXPECT_NE(hidden.out.find("unsigned tail"), std::string::npos) << hidden.out;
}

// An agent that stops shows each peer its log's head as it stands at the close, so what the
// peer saw covers the traffic of the last seconds, not only up to the last periodic head.
TEST(CrossWitness, APeerSeesTheHeadOfTheLogAsItStoodAtTheClose) {
  TempDir dir("ifmesh-xwit");
  auto server = startSignaling();
  auto config = [&](const std::string& id) {
    auto witness = std::make_shared<Witness>();
    witness->addSink(std::make_shared<FileWitnessSink>((dir.path / (id + ".jsonl")).string()));
    return meshAgentConfig(id, *server, witness);
  };
  Inbox inboxB;
  auto b = std::make_unique<Agent>(config("b"));
  inboxB.attach(*b);
  b->connectToSignaling();
  ASSERT_TRUE(b->waitRegistered(5s));
  std::uint64_t lastSent = 0;
  {
    Agent a(config("a"));
    a.connectToSignaling();
    ASSERT_TRUE(a.waitRegistered(5s));
    a.connect("b");
    ASSERT_TRUE(waitFor([&] { return latestHeadSeen(dir.path / "b.jsonl", "a") > 0; }, 10s, 20ms))
        << "b recorded no head of a's log";
    const auto firstHead = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(1100ms);  // b takes at most one head of a per second
    for (int n = 0; n < 20; ++n) a.send("b", numbered(n));
    ASSERT_TRUE(waitFor([&] { return inboxB.size() == 20; }));
    // Stopped before a's next periodic head (5 s after the first) would show the traffic.
    ASSERT_LT(std::chrono::steady_clock::now() - firstHead, 4s) << "too slow to tell";
  }
  for (const auto& l : readLines(dir.path / "a.jsonl")) {
    auto j = nlohmann::json::parse(l, nullptr, false);
    if (!j.is_discarded() && j.value("event", "") == "ifmessage_sent")
      lastSent = std::max(lastSent, j["seq"].get<std::uint64_t>());
  }
  ASSERT_GT(lastSent, 0u);
  EXPECT_TRUE(
      waitFor([&] { return latestHeadSeen(dir.path / "b.jsonl", "a") >= lastSent; }, 5s, 20ms))
      << "b's latest head of a's log is seq " << latestHeadSeen(dir.path / "b.jsonl", "a")
      << ", a's last send is seq " << lastSent;
  b.reset();
}

}  // namespace
}  // namespace ifmesh::test
