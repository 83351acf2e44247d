// ForwardHolds: which upstreams a relay keeps waiting, and when each may resend.
#include "mesh/forward_holds.hpp"

#include <gtest/gtest.h>

namespace ifmesh::detail {
namespace {

using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

TEST(ForwardHolds, AHopWaitEndsWhenTheHopHasRoom) {
  ForwardHolds holds(2s);
  const ForwardHolds::Clock::time_point t0{};
  EXPECT_TRUE(holds.hold("up", "next", t0));
  EXPECT_FALSE(holds.hold("up", "next", t0 + 1s));  // the same wait
  EXPECT_FALSE(holds.nextDeadline());
  bool room = false;
  auto hasRoom = [&](const std::string& hop) { return hop == "next" && room; };
  EXPECT_TRUE(holds.release(t0 + 10s, true, hasRoom).empty());  // no room, directory irrelevant
  room = true;
  EXPECT_EQ(holds.release(t0 + 10s, false, hasRoom), Strings{"up"});
  EXPECT_EQ(holds.size(), 0u);
  EXPECT_FALSE(holds.refusesUnknown("up"));
}

TEST(ForwardHolds, ADestinationWaitEndsOnADirectoryChangeOrItsGrace) {
  ForwardHolds holds(2s);
  const ForwardHolds::Clock::time_point t0{};
  auto none = [](const std::string&) { return false; };
  EXPECT_TRUE(holds.hold("a", "", t0));
  EXPECT_TRUE(holds.hold("b", "", t0 + 1s));
  EXPECT_EQ(holds.nextDeadline(), t0 + 2s);
  EXPECT_FALSE(holds.hold("a", "", t0 + 1500ms));  // its grace keeps running
  EXPECT_TRUE(holds.release(t0 + 1999ms, false, none).empty());
  // a's grace runs out: resent, and from now on refused at once.
  EXPECT_EQ(holds.release(t0 + 2s, false, none), Strings{"a"});
  EXPECT_TRUE(holds.refusesUnknown("a"));
  EXPECT_EQ(holds.nextDeadline(), t0 + 3s);
  // A directory change ends b's wait before its grace, without refusing it.
  EXPECT_EQ(holds.release(t0 + 2500ms, true, none), Strings{"b"});
  EXPECT_FALSE(holds.refusesUnknown("b"));
  EXPECT_FALSE(holds.nextDeadline());
  holds.destinationKnown("a");
  EXPECT_FALSE(holds.refusesUnknown("a"));
}

TEST(ForwardHolds, ChangingWhatAnUpstreamWaitsForIsANewWait) {
  ForwardHolds holds(2s);
  const ForwardHolds::Clock::time_point t0{};
  EXPECT_TRUE(holds.hold("up", "", t0));
  EXPECT_TRUE(holds.hold("up", "next", t0 + 1s));  // its destination joined; its hop is full
  EXPECT_FALSE(holds.nextDeadline());
  EXPECT_TRUE(holds.release(t0 + 5s, false, [](const std::string&) { return false; }).empty());
  EXPECT_FALSE(holds.refusesUnknown("up"));
}

}  // namespace
}  // namespace ifmesh::detail
