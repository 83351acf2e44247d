// An I/O loop that polls before it sleeps (ContextDriver's spin budget) still does everything
// a sleeping loop does: tasks posted while it polls run, a timer due inside the budget fires at
// its time rather than at the budget's end, and a budget of zero turns polling off.
#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <future>
#include <thread>

#include "rtc/io_loop.hpp"

namespace ifmesh::rtc {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(IoLoopSpin, TasksPostedWhileTheLoopPollsRun) {
  IoLoop loop(0, 200ms);
  for (int i = 0; i < 100; ++i) {
    std::promise<int> done;
    auto result = done.get_future();
    loop.post([&done, i] { done.set_value(i); });
    ASSERT_EQ(result.wait_for(5s), std::future_status::ready) << "task " << i;
    EXPECT_EQ(result.get(), i);
  }
}

TEST(IoLoopSpin, ATimerDueWithinTheBudgetFiresAtItsTime) {
  // A 2 s budget: a timer held back until the budget ends would fire ~2 s late.
  IoLoop loop(0, 2s);
  for (int round = 0; round < 3; ++round) {
    std::promise<Clock::time_point> fired;
    auto when = fired.get_future();
    Clock::time_point start;
    IoLoop::Timer timer;
    // Posted work first, so the next wait is one that polls.
    loop.invoke([&] {
      start = Clock::now();
      timer = loop.addTimer(5ms, [&fired] {
        fired.set_value(Clock::now());
        return false;
      });
    });
    ASSERT_EQ(when.wait_for(10s), std::future_status::ready);
    EXPECT_LT(when.get() - start, 1s) << "round " << round;
    loop.invoke([&] { timer.cancel(); });
  }
}

// CPU time the loop's thread uses while the caller sleeps for `idle`, in milliseconds.
double loopCpuMsOver(IoLoop& loop, std::chrono::milliseconds idle) {
  timespec before{}, after{};
  clockid_t clock{};
  loop.invoke([&] {
    pthread_getcpuclockid(pthread_self(), &clock);
    clock_gettime(clock, &before);
  });
  std::this_thread::sleep_for(idle);
  clock_gettime(clock, &after);
  return (after.tv_sec - before.tv_sec) * 1e3 + (after.tv_nsec - before.tv_nsec) / 1e6;
}

TEST(IoLoopSpin, NoBudgetMeansNoPolling) {
  IoLoop loop(0, 0us);
  std::atomic<int> ran{0};
  for (int i = 0; i < 10; ++i) loop.post([&ran] { ++ran; });
  loop.invoke([] {});
  EXPECT_EQ(ran.load(), 10);
  // An idle loop without a budget sleeps: its thread uses next to no CPU over 200 ms.
  EXPECT_LT(loopCpuMsOver(loop, 200ms), 50.0);
}

TEST(IoLoopSpin, AnIdleLoopStopsPollingAfterItsBudget) {
  IoLoop loop(0, 1ms);
  // One budget of polling after the last task, then sleep: far below the 300 ms it would burn
  // polling all along.
  EXPECT_LT(loopCpuMsOver(loop, 300ms), 100.0);
}

}  // namespace
}  // namespace ifmesh::rtc
