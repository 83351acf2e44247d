// Exactly once across crashes: a receiving `ifmesh agent --record` and a sending
// `ifmesh send --count`, each with its own --state-dir, are killed with SIGKILL (by PID) at random
// points of a 20,000-message flood (when the record reaches a random length, anywhere from 5 % to
// 75 % of the stream) and started again with the same directories. At the end the record holds
// every message 1..N once, in order. The kill points come from a seed printed with the result.
// IFMESH_DURABLE_ROUNDS floods per test (1 by default; each from empty state directories),
// IFMESH_DURABLE_KILLS kills per flood (3), IFMESH_DURABLE_SEED repeats a run.
//
// The power-loss test kills both and also takes from both stores every write that no fsync or
// fdatasync covered (support/power_loss.hpp), as a machine losing power would. The record stands
// for the application's own output and is kept whole.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "bench/process.hpp"
#include "mesh/mesh_fixture.hpp"
#include "support/power_loss.hpp"

namespace ifmesh {
namespace {

using namespace test;

constexpr std::uint64_t kMessages = 20000;

std::uint64_t envOr(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

class DurableKill : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ifmesh-durable-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    server_ = startSignaling();
    url_ = "ws://127.0.0.1:" + std::to_string(server_->port());
  }

  void TearDown() override {
    receiver_.reset();
    sender_.reset();
    server_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // The command line of the agent `who`; with powerLoss_ the shim watches its state directory.
  std::vector<std::string> command(const std::string& who, std::vector<std::string> argv) const {
    if (!powerLoss_) return argv;
    std::filesystem::create_directories(dir_ / who);
    std::vector<std::string> wrapped{"/usr/bin/env", "LD_PRELOAD=" + powerLossPreload(),
                                     "IFMESH_POWER_LOSS_DIR=" + (dir_ / who).string(),
                                     "IFMESH_POWER_LOSS_LOG=" + undoLog(who).string()};
    wrapped.insert(wrapped.end(), argv.begin(), argv.end());
    return wrapped;
  }

  std::filesystem::path undoLog(const std::string& who) const { return dir_ / (who + ".undo"); }
  std::filesystem::path witnessLog(const std::string& who) const {
    return dir_ / (who + ".witness.jsonl");
  }

  // Witness records of `event` in the log of `who`.
  std::size_t witnessed(const std::string& who, const std::string& event) const {
    std::ifstream in(witnessLog(who));
    std::string line;
    std::size_t n = 0;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.value("event", "") == event) ++n;
    }
    return n;
  }

  void startReceiver() {
    receiver_ = std::make_unique<bench::ChildProcess>(
        command("rx", {IFMESH_CLI_PATH, "agent", "--id", "rx", "--signal", url_, "--local-address",
                       "127.0.0.1", "--state-dir", (dir_ / "rx").string(), "--record",
                       record().string(), "--witness", witnessLog("rx").string()}));
    ASSERT_NE(receiver_->waitForLine("registered", 15s), "") << "the receiver did not register";
  }

  void startSender() {
    sender_ = std::make_unique<bench::ChildProcess>(command(
        "tx",
        {IFMESH_CLI_PATH, "send", "--id", "tx", "--to", "rx", "--signal", url_, "--local-address",
         "127.0.0.1", "--state-dir", (dir_ / "tx").string(), "--count", std::to_string(kMessages),
         "--timeout-ms", "240000", "--witness", witnessLog("tx").string()}));
  }

  std::filesystem::path record() const { return dir_ / "record.jsonl"; }

  // Lines in the record so far (a line being written is not counted).
  std::size_t recordedLines() const {
    std::ifstream in(record(), std::ios::binary);
    std::size_t lines = 0;
    char buffer[65536];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0)
      lines += static_cast<std::size_t>(std::count(buffer, buffer + in.gcount(), '\n'));
    return lines;
  }

  // Sequences from tx in record order.
  std::vector<std::uint64_t> recorded() const {
    std::vector<std::uint64_t> seqs;
    std::ifstream in(record());
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.value("source", "") == "tx")
        seqs.push_back(j.value("seq", std::uint64_t{0}));
    }
    return seqs;
  }

  void run(bool killReceiver, bool killSender) {
    const std::uint64_t rounds = envOr("IFMESH_DURABLE_ROUNDS", 1);
    for (std::uint64_t r = 0; r < rounds && !HasFailure(); ++r) {
      receiver_.reset();
      sender_.reset();
      for (const char* d : {"rx", "tx", "record.jsonl", "rx.undo", "tx.undo", "rx.witness.jsonl",
                            "tx.witness.jsonl"})
        std::filesystem::remove_all(dir_ / d);
      flood(killReceiver, killSender, envOr("IFMESH_DURABLE_SEED", std::random_device{}() + r));
    }
  }

  void flood(bool killReceiver, bool killSender, std::uint64_t seed) {
    const std::uint64_t kills = envOr("IFMESH_DURABLE_KILLS", 3);
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::uint64_t> at(kMessages / 20, kMessages * 3 / 4);
    std::vector<std::uint64_t> targets(kills);
    for (auto& t : targets) t = at(rng);
    std::sort(targets.begin(), targets.end());
    std::cout << "[ durable-kill ] seed " << seed << ", " << kills << " kills" << std::endl;
    SCOPED_TRACE("IFMESH_DURABLE_SEED=" + std::to_string(seed));

    startReceiver();
    startSender();
    for (std::uint64_t k = 0; k < kills; ++k) {
      // Each kill lands when the record reaches its target: the restarted processes must move
      // the flood on to get there (two targets that are close may fall in one kill's replay).
      EXPECT_TRUE(waitFor([&] { return recordedLines() >= targets[k]; }, 60s, 2ms))
          << "no progress after restart " << k << ": " << recordedLines()
          << " records, waiting for " << targets[k];
      std::cout << "[ durable-kill ] kill " << k + 1 << " at " << targets[k] << " records"
                << std::endl;
      if (killReceiver) receiver_->kill();
      if (killSender) sender_->kill();
      if (powerLoss_) {
        for (const char* who : {"rx", "tx"}) {
          auto undo = undoUnsyncedWrites(undoLog(who).string());
          std::cout << "[ durable-kill ] power loss of " << who << "'s store: " << undo.writesUndone
                    << " unsynced writes undone, " << undo.writesKept << " kept by " << undo.syncs
                    << " syncs" << std::endl;
        }
      }
      if (killReceiver) startReceiver();
      if (killSender) startSender();
    }
    int exitCode = -1;
    std::string out = sender_->finish(240s, &exitCode);
    EXPECT_EQ(exitCode, 0) << out;
    std::cout << "[ durable-kill ] " << out;

    // A side that restarts behind what it acknowledged makes its peer renumber the lane: the
    // messages in between would be skipped by the record as repeats and lost.
    for (const char* who : {"rx", "tx"})
      EXPECT_EQ(witnessed(who, "peer_state_regressed"), 0u) << who << " saw its peer lose state";
    auto seqs = recorded();
    for (std::uint64_t i = 0; i < seqs.size(); ++i)
      ASSERT_EQ(seqs[i], i + 1) << "record " << i << ": missing, repeated or out of order";
    ASSERT_EQ(seqs.size(), kMessages) << "records (each message exactly once)";
  }

  bool powerLoss_ = false;
  std::filesystem::path dir_;
  std::unique_ptr<signaling::Server> server_;
  std::string url_;
  std::unique_ptr<bench::ChildProcess> receiver_, sender_;
};

TEST_F(DurableKill, ReceiverKilledAtRandomPointsRecordsEveryMessageOnce) {
  run(true, false);
}

TEST_F(DurableKill, SenderKilledAtRandomPointsDeliversEveryMessageOnce) {
  run(false, true);
}

TEST_F(DurableKill, BothKilledAtRandomPointsDeliverEveryMessageOnce) {
  run(true, true);
}

TEST_F(DurableKill, PowerLossOfBothStoresLosesAndRepeatsNothing) {
  powerLoss_ = true;
  run(true, true);
}

}  // namespace
}  // namespace ifmesh
