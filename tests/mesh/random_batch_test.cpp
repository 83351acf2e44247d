// The batched random bytes behind message and trace ids: distinct across batches and threads, and a
// forked child never repeats what its parent draws next.
#include "random_batch.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "mesh_fixture.hpp"

namespace ifmesh::detail {
namespace {

using namespace std::chrono_literals;
using ifmesh::test::waitFor;

using Draw = std::array<unsigned char, 16>;

Draw draw() {
  Draw d{};
  randomBytes(d.data(), d.size());
  return d;
}

TEST(RandomBatch, DrawsAcrossManyBatchesAreDistinct) {
  std::set<Draw> seen;
  for (int i = 0; i < 5000; ++i) seen.insert(draw());  // ~20 refills of the 4 KiB batch
  EXPECT_EQ(seen.size(), 5000u);
  EXPECT_EQ(seen.count(Draw{}), 0u);  // handed-out bytes are wiped, never handed out again
}

TEST(RandomBatch, LargeDrawsAndEmptyDrawsWork) {
  std::vector<unsigned char> big(10000, 0), other(10000, 0);
  randomBytes(big.data(), big.size());
  randomBytes(other.data(), other.size());
  EXPECT_NE(big, other);
  randomBytes(nullptr, 0);
}

TEST(RandomBatch, ThreadsDrawDistinctBytes) {
  std::mutex mutex;
  std::set<Draw> seen;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      std::vector<Draw> mine;
      for (int i = 0; i < 2000; ++i) mine.push_back(draw());
      std::lock_guard lock(mutex);
      seen.insert(mine.begin(), mine.end());
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(seen.size(), 8000u);
}

TEST(RandomBatch, AForkedChildDrawsOtherBytesThanItsParent) {
  draw();  // the batch is filled: a plain copy of it would give the child the parent's next bytes
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Draw d = draw();
    ssize_t n = ::write(fds[1], d.data(), d.size());
    ::_exit(n == static_cast<ssize_t>(d.size()) ? 0 : 1);
  }
  ::close(fds[1]);
  Draw parent = draw();
  Draw fromChild{};
  ssize_t n = ::read(fds[0], fromChild.data(), fromChild.size());
  ::close(fds[0]);
  int status = 0;
  if (!waitFor([&] { return ::waitpid(child, &status, WNOHANG) != 0; }, 10s, 5ms)) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
    FAIL() << "the child did not finish";
  }
  ASSERT_EQ(n, static_cast<ssize_t>(fromChild.size()));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_NE(parent, fromChild);
}

}  // namespace
}  // namespace ifmesh::detail
