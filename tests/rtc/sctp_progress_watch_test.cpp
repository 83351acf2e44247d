// SctpProgressWatch: the verdict on an association's progress from snapshots, without sockets.
#include "rtc/sctp_progress_watch.hpp"

#include <gtest/gtest.h>

namespace ifmesh::rtc {
namespace {

using namespace std::chrono_literals;
using Clock = SctpProgressWatch::Clock;

TEST(SctpProgressWatch, UnchangedOutstandingDataIsStuckAfterTheLimit) {
  SctpProgressWatch watch(10s);
  const Clock::time_point t0{};
  const SctpProgressWatch::Snapshot wedged{218, 3933156, 12000, 200};
  EXPECT_FALSE(watch.stuck(wedged, t0));
  EXPECT_FALSE(watch.stuck(wedged, t0 + 5s));
  EXPECT_FALSE(watch.stuck(wedged, t0 + 9999ms));
  EXPECT_TRUE(watch.stuck(wedged, t0 + 10s));
}

TEST(SctpProgressWatch, AnyChangeRestartsTheClock) {
  SctpProgressWatch watch(10s);
  const Clock::time_point t0{};
  SctpProgressWatch::Snapshot s{100, 1 << 20, 12000, 200};
  EXPECT_FALSE(watch.stuck(s, t0));
  s.congestionWindowBytes = 1188;  // a retransmission timeout collapsed cwnd: recovery is running
  EXPECT_FALSE(watch.stuck(s, t0 + 8s));
  EXPECT_FALSE(watch.stuck(s, t0 + 17s));
  s.rtoMs = 400;  // the timer backed off
  EXPECT_FALSE(watch.stuck(s, t0 + 18s));
  s.unackedChunks = 99;  // a SACK took one chunk
  EXPECT_FALSE(watch.stuck(s, t0 + 27s));
  s.peerWindowBytes -= 1000;
  EXPECT_FALSE(watch.stuck(s, t0 + 36s));
  EXPECT_TRUE(watch.stuck(s, t0 + 46s));
}

TEST(SctpProgressWatch, NothingOutstandingIsNeverStuck) {
  SctpProgressWatch watch(1s);
  const Clock::time_point t0{};
  const SctpProgressWatch::Snapshot idle{0, 1 << 20, 12000, 200};
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(watch.stuck(idle, t0 + i * 1s));
  // Data outstanding after idling starts its own clock.
  const SctpProgressWatch::Snapshot busy{5, 1 << 20, 12000, 200};
  EXPECT_FALSE(watch.stuck(busy, t0 + 10s));
  EXPECT_TRUE(watch.stuck(busy, t0 + 11s));
  watch.reset();
  EXPECT_FALSE(watch.stuck(busy, t0 + 12s));
}

TEST(SctpProgressWatch, AClosedPeerWindowIsWaitingNotStuck) {
  SctpProgressWatch watch(1s);
  const Clock::time_point t0{};
  const SctpProgressWatch::Snapshot probing{1, 0, 1188, 3000};  // one window probe outstanding
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(watch.stuck(probing, t0 + i * 1s));
}

}  // namespace
}  // namespace ifmesh::rtc
