// The state store on real files: what a commit writes is there when the store is opened again,
// also after the process that wrote it was killed; what was not committed is not; one agent per
// directory; a damaged file is an error, never a crash.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "ifmesh/error.hpp"
#include "store/delivery_store.hpp"
#include "store/wal_syncer.hpp"

namespace ifmesh::detail::store {
namespace {

class DeliveryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ifmesh-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir() const { return dir_.string(); }

  std::filesystem::path dir_;
};

TEST_F(DeliveryStoreTest, CommittedStateIsThereWhenOpenedAgain) {
  std::uint64_t incarnation = 0;
  {
    DeliveryStore s(dir());
    EXPECT_EQ(std::filesystem::status(dir_).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_all);
    incarnation = s.incarnation(12345);
    EXPECT_EQ(incarnation, 12345u);
    auto k1 = s.addToOutbox("bob", 0, false, R"({"id":"1"})");
    auto k2 = s.addToOutbox("carol", 1, true, R"({"id":"2"})");
    auto k3 = s.addToOutbox("bob", 0, false, R"({"id":"3"})");
    s.removeFromOutbox(k2);
    EXPECT_LT(k1, k3);
    LinkState link;
    link.peerIncarnation = 77;
    link.acked = {1, 2, 3, 4};
    link.delivered = {5, 6, 7, 8};
    s.setLink("bob", link);
    s.setStamp("bob", 2, 41);
    s.setReplay("dave", {9, 1700000000000, {0, 0, 3, 0}});
    s.setReplay("erin", {10, 1, {}});
    s.forgetReplay("erin");
    s.commit();
    EXPECT_FALSE(s.dirty());
    EXPECT_EQ(s.commits(), 1u);
  }
  DeliveryStore s(dir());
  EXPECT_EQ(s.incarnation(999), incarnation) << "a durable agent keeps its incarnation";
  auto outbox = s.outbox();
  ASSERT_EQ(outbox.size(), 2u);
  EXPECT_EQ(outbox[0].json, R"({"id":"1"})");
  EXPECT_EQ(outbox[1].json, R"({"id":"3"})");
  EXPECT_EQ(outbox[0].peer, "bob");
  auto links = s.links();
  ASSERT_EQ(links.count("bob"), 1u);
  EXPECT_EQ(links["bob"].peerIncarnation, 77u);
  EXPECT_EQ(links["bob"].acked[2], 3u);
  EXPECT_EQ(links["bob"].delivered[3], 8u);
  EXPECT_EQ((s.stamps()[{"bob", 2}]), 41u);
  auto replay = s.replayWindow();
  EXPECT_EQ(replay.size(), 1u);
  EXPECT_EQ(replay["dave"].last[2], 3u);
  EXPECT_EQ(replay["dave"].newestMs, 1700000000000);
}

TEST_F(DeliveryStoreTest, WritesOfAKilledProcessSurviveOnlyWhenCommitted) {
  // The child commits some writes, makes more without committing, and dies without closing
  // anything (no destructor, no final commit), as SIGKILL would leave it.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      auto* s = new DeliveryStore(dir());  // never destroyed
      s->incarnation(5);
      for (int i = 0; i < 100; ++i) s->addToOutbox("bob", 0, false, std::to_string(i));
      s->setStamp("bob", 2, 100);
      s->commit();
      s->addToOutbox("bob", 0, false, "uncommitted");
      s->setStamp("bob", 2, 101);
    } catch (...) {
      ::_exit(2);
    }
    ::kill(::getpid(), SIGKILL);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child failed before its kill";
  DeliveryStore s(dir());
  auto outbox = s.outbox();
  ASSERT_EQ(outbox.size(), 100u);
  EXPECT_EQ(outbox.back().json, "99");
  EXPECT_EQ((s.stamps()[{"bob", 2}]), 100u);
}

TEST_F(DeliveryStoreTest, OneAgentPerDirectory) {
  DeliveryStore first(dir());
  first.incarnation(1);
  try {
    DeliveryStore second(dir());
    FAIL() << "a second store opened the same directory";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::Io);
  }
}

TEST_F(DeliveryStoreTest, ADamagedFileIsAnErrorNotACrash) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "delivery.db") << std::string(8192, 'x');
  EXPECT_THROW(DeliveryStore s(dir()), Error);
  std::filesystem::remove_all(dir_);
  std::ofstream(dir_.string()) << "a file where the directory should be";
  EXPECT_THROW(DeliveryStore s(dir()), Error);
}

TEST_F(DeliveryStoreTest, SyncerCoversEveryRequestMade) {
  DeliveryStore s(dir());
  std::atomic<std::uint64_t> synced{0};
  {
    WalSyncer syncer(s.logPath(), [&](std::uint64_t commit, const std::string& error) {
      EXPECT_EQ(error, "");
      synced = commit;
    });
    for (std::uint64_t i = 1; i <= 200; ++i) {
      s.addToOutbox("bob", 0, false, std::to_string(i));
      s.commit();
      syncer.request(i);
    }
    EXPECT_EQ(syncer.syncNow(), "");
  }  // finishes what was requested
  EXPECT_EQ(synced.load(), 200u);
}

}  // namespace
}  // namespace ifmesh::detail::store
