// The ifmesh CLI as a user meets it, run as a real process: every wrong command line is one
// "error: ..." line naming the flag and exit code 2; every failure to do the job (an unreadable
// file, an unreachable or refusing server, an undeliverable message) is one line and exit code 1;
// nothing aborts. Servers and agents run in this process on 127.0.0.1.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ifmesh/agent.hpp"
#include "ifmesh/identity.hpp"
#include "ifmesh/signaling.hpp"
#include "ifmesh/witness.hpp"
#include "mesh/mesh_fixture.hpp"

namespace ifmesh::test {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int exitCode = -1;
  bool signalled = false;
  std::string out, err;
  std::chrono::milliseconds took{0};
};

std::string quoted(const std::string& arg) {
  std::string q = "'";
  for (char c : arg) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `ifmesh args...` with a 30 s limit, capturing stdout and stderr.
CliRun ifmesh(const std::vector<std::string>& args) {
  fs::path dir = fs::temp_directory_path() / ("ifmesh-cli-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string cmd = "timeout 30 " + quoted(IFMESH_CLI_PATH);
  for (const auto& a : args) cmd += " " + quoted(a);
  cmd += " >" + quoted((dir / "out").string()) + " 2>" + quoted((dir / "err").string());
  auto start = std::chrono::steady_clock::now();
  int status = std::system(cmd.c_str());
  CliRun r;
  r.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.signalled = WIFSIGNALED(status) || r.exitCode > 128;
  r.out = slurp(dir / "out");
  r.err = slurp(dir / "err");
  fs::remove_all(dir);
  return r;
}

// One line, "error: " first, mentioning `mention`.
void expectOneErrorLine(const CliRun& r, int exitCode, const std::string& mention) {
  EXPECT_FALSE(r.signalled) << r.err;
  EXPECT_EQ(r.exitCode, exitCode) << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(mention), std::string::npos) << "'" << mention << "' not in: " << r.err;
}

TEST(Cli, EveryWrongCommandLineIsOneErrorLineAndExitCode2) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"agent", "--id", "a", "--signal", "http://127.0.0.1:1"}, "--signal 'http://127.0.0.1:1'"},
      {{"agent", "--id", "a", "--signal", "foo"}, "--signal 'foo'"},
      {{"agent", "--id", "a", "--signal", "ws://127.0.0.1:70000"}, "port"},
      {{"agent", "--id", "a", "--connect", "k=abc"}, "--connect 'k=abc'"},
      {{"agent", "--id", "a", "--connect", "sideways"}, "--connect 'sideways'"},
      {{"agent", "--id", "a\nb\x1b[31m"}, "--id 'a?b?[31m'"},
      {{"agent", "--id", "a", "--stun", "foo"}, "--stun 'foo'"},
      {{"agent", "--id", "a", "--turn", "foo"}, "--turn 'foo'"},
      {{"agent", "--id", "a", "--turn", "stun:127.0.0.1:3478"}, "--turn 'stun:127.0.0.1:3478'"},
      {{"send", "--id", "a", "--to", "b", "--payload", "{nope"}, "--payload '{nope'"},
      {{"send", "--id", "a", "--to", "a"}, "--to 'a'"},
      {{"signal", "--port", "99999"}, "--port"},
      {{"token", "--id", "alice", "--secret", "s", "--ttl", "90d"}, "--ttl '90d'"},
      {{"token", "--id", "alice", "--secret", "s", "--ttl", "soon"}, "--ttl 'soon'"},
      {{"agnet"}, "did you mean 'agent'"},
      {{"agent"}, "--id"},
  };
  for (const auto& [args, mention] : cases) {
    SCOPED_TRACE(args[0] + (args.size() > 1 ? " " + args[1] + " ..." : ""));
    expectOneErrorLine(ifmesh(args), 2, mention);
  }
}

TEST(Cli, FailuresToDoTheJobAreOneErrorLineAndExitCode1) {
  fs::path junkKey = fs::temp_directory_path() / "ifmesh-cli-junk.pem";
  std::ofstream(junkKey) << "not a key\n";
  auto server = startSignaling();
  const std::string url = "ws://127.0.0.1:" + std::to_string(server->port());
  expectOneErrorLine(ifmesh({"agent", "--id", "a", "--signal", url, "--key-file", junkKey}), 1,
                     junkKey.string());
  expectOneErrorLine(
      ifmesh({"agent", "--id", "a", "--signal", url, "--witness", "/proc/no/such/dir/w.jsonl"}), 1,
      "/proc/no/such/dir/w.jsonl");
  expectOneErrorLine(
      ifmesh({"agent", "--id", "a", "--signal", url, "--record", "/proc/no/such/dir/r.jsonl"}), 1,
      "--record");
  expectOneErrorLine(ifmesh({"witness", "verify", "/no/such/witness.jsonl"}), 1,
                     "/no/such/witness.jsonl");
  fs::remove(junkKey);
  // A port nothing listens on: said at once, not after a timeout.
  std::uint16_t closed = server->port();
  server.reset();
  CliRun r = ifmesh({"agent", "--id", "a", "--signal", "ws://127.0.0.1:" + std::to_string(closed)});
  expectOneErrorLine(r, 1, "unreachable");
  EXPECT_LT(r.took, std::chrono::seconds(5));
}

TEST(Cli, ServerRefusalsReachTheUserAtOnceWithTheServersCode) {
  signaling::ServerConfig config;
  config.port = 0;
  config.sharedSecret = "cli-test-secret";
  signaling::Server server(config);
  server.start();
  const std::string url = "ws://127.0.0.1:" + std::to_string(server.port());
  auto tokenFor = [&](const std::string& id) {
    CliRun t = ifmesh({"token", "--id", id, "--secret", config.sharedSecret, "--ttl", "1h"});
    EXPECT_EQ(t.exitCode, 0) << t.err;
    std::string token = t.out.substr(0, t.out.find('\n'));
    EXPECT_TRUE(signaling::verifyAuthToken(config.sharedSecret, id, token));
    return token;
  };
  AgentConfig bobConfig;
  bobConfig.agentId = "bob";
  bobConfig.signalingUrl = url;
  bobConfig.authToken = tokenFor("bob");
  bobConfig.localAddresses = {"127.0.0.1"};
  Agent bob(bobConfig);
  Inbox inbox;
  inbox.attach(bob);
  bob.connectToSignaling();
  ASSERT_TRUE(bob.waitRegistered(std::chrono::seconds(5)));

  CliRun dup = ifmesh({"agent", "--id", "bob", "--signal", url, "--token", bobConfig.authToken});
  expectOneErrorLine(dup, 1, "duplicate_id");
  CliRun wrong = ifmesh({"agent", "--id", "eve", "--signal", url, "--token", bobConfig.authToken});
  expectOneErrorLine(wrong, 1, "unauthorized");
  const std::string cliToken = tokenFor("cli");
  CliRun nobody = ifmesh({"send", "--id", "cli", "--signal", url, "--token", cliToken, "--to",
                          "nobody", "--local-address", "127.0.0.1"});
  expectOneErrorLine(nobody, 1, "unknown_peer");
  for (const CliRun* r : {&dup, &wrong, &nobody}) EXPECT_LT(r->took, std::chrono::seconds(3));

  // A message to an agent that does not answer: delivered is what `send` reports.
  CliRun sent = ifmesh({"send", "--id", "cli", "--signal", url, "--token", cliToken, "--to", "bob",
                        "--local-address", "127.0.0.1", "--payload", R"({"q":1})"});
  EXPECT_EQ(sent.exitCode, 0) << sent.err;
  EXPECT_EQ(sent.out.rfind("delivered to bob seq=1", 0), 0u) << sent.out;
  ASSERT_EQ(inbox.size(), 1u);
  std::lock_guard lock(inbox.mutex);
  EXPECT_EQ(inbox.messages[0].payload, nlohmann::json({{"q", 1}}));
}

TEST(Cli, WitnessVerifySaysWhatTheChainProves) {
  fs::path log = fs::temp_directory_path() / "ifmesh-cli-witness.jsonl";
  fs::remove(log);
  {
    Witness w;
    w.addSink(std::make_shared<FileWitnessSink>(log.string()));
    for (int i = 0; i < 5; ++i) w.emit("test_event", "a", "b", {{"i", i}});
    w.flush();
  }
  CliRun whole = ifmesh({"witness", "verify", log.string()});
  ASSERT_EQ(whole.exitCode, 0) << whole.out << whole.err;
  const std::string head = whole.out.substr(whole.out.find("head ") + 5, 64);
  // Cut the last two records: the chain alone still verifies, and says it cannot tell.
  std::string text = slurp(log);
  std::size_t cut = text.size();
  for (int i = 0; i < 3; ++i) cut = text.rfind('\n', cut - 1);
  std::ofstream(log, std::ios::trunc) << text.substr(0, cut + 1);
  CliRun shorter = ifmesh({"witness", "verify", log.string()});
  EXPECT_EQ(shorter.exitCode, 0);
  EXPECT_NE(shorter.out.find("OK: 3 records"), std::string::npos) << shorter.out;
  EXPECT_NE(shorter.out.find("cannot show records cut from its end"), std::string::npos);
  // With what was kept elsewhere, the cut shows.
  CliRun byCount = ifmesh({"witness", "verify", log.string(), "--expect-records", "5"});
  EXPECT_EQ(byCount.exitCode, 3);
  EXPECT_NE(byCount.out.find("SHORT: 3 records, 5 expected"), std::string::npos) << byCount.out;
  CliRun byHead = ifmesh({"witness", "verify", log.string(), "--expect-head", head});
  EXPECT_EQ(byHead.exitCode, 3);
  EXPECT_NE(byHead.out.find("HEAD MISMATCH"), std::string::npos) << byHead.out;
  fs::remove(log);
}

// An agent signs its witness log with its identity; verify checks the signatures against the
// key given (its PEM file or the base64 the directory shows) and says what is not proven.
TEST(Cli, WitnessVerifyChecksTheAgentsSignatures) {
  fs::path dir = fs::temp_directory_path() / ("ifmesh-cli-witness-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path log = dir / "audit.jsonl", key = dir / "agent.pem", other = dir / "other.pem";
  AgentIdentity::generate().savePem(other.string());
  auto witness = std::make_shared<Witness>();
  witness->addSink(std::make_shared<FileWitnessSink>(log.string()));
  {
    AgentConfig c;
    c.agentId = "alice";
    c.signalingUrl = "ws://127.0.0.1:9";
    c.identity.keyFile = key.string();
    c.witness = witness;
    Agent agent(c);
    witness->emit("test_event", "alice", "bob");
  }
  witness->flush();
  const std::string publicKey = AgentIdentity::loadPem(key.string()).publicKey();

  CliRun pinned = ifmesh({"witness", "verify", log.string(), "--key", key.string()});
  EXPECT_EQ(pinned.exitCode, 0) << pinned.out << pinned.err;
  EXPECT_NE(pinned.out.find("signatures valid, by " + publicKey + " (the given --key)"),
            std::string::npos)
      << pinned.out;
  EXPECT_NE(pinned.out.find("the last record is signed"), std::string::npos) << pinned.out;
  CliRun byBase64 = ifmesh({"witness", "verify", log.string(), "--key", publicKey});
  EXPECT_EQ(byBase64.exitCode, 0) << byBase64.out << byBase64.err;
  CliRun unpinned = ifmesh({"witness", "verify", log.string()});
  EXPECT_EQ(unpinned.exitCode, 0);
  EXPECT_NE(unpinned.out.find("NOT pinned"), std::string::npos) << unpinned.out;
  CliRun wrongKey = ifmesh({"witness", "verify", log.string(), "--key", other.string()});
  EXPECT_EQ(wrongKey.exitCode, 3);
  EXPECT_NE(wrongKey.out.find("BROKEN: signed with another key"), std::string::npos)
      << wrongKey.out;
  CliRun badKey = ifmesh({"witness", "verify", log.string(), "--key", "not-a-key"});
  expectOneErrorLine(badKey, 2, "--key");

  // Records appended without the key: intact, reported as the unsigned tail.
  {
    FileWitnessSink unsignedSink(log.string());
    unsignedSink.record({"appended", "mallory", "", "", isoTimestampNow(), {}});
    unsignedSink.record({"appended", "mallory", "", "", isoTimestampNow(), {}});
  }
  CliRun tail = ifmesh({"witness", "verify", log.string(), "--key", key.string()});
  EXPECT_EQ(tail.exitCode, 0) << tail.out << tail.err;
  EXPECT_NE(tail.out.find("the last 2 records are an unsigned tail"), std::string::npos)
      << tail.out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ifmesh::test
