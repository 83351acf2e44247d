// The quality mode state machine, driven by buffer samples.
#include <gtest/gtest.h>

#include "ifmesh/bandwidth.hpp"
#include "ifmesh/error.hpp"

namespace ifmesh {
namespace {

constexpr std::size_t KiB = 1024;

struct Driver {
  QualityController controller{BandwidthConfig{}};
  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now();
  QualityMode feed(std::size_t max, std::size_t avg) {
    now += std::chrono::milliseconds(100);
    controller.update(max, avg, 1, now);
    return controller.mode();
  }
};

TEST(QualityController, StepsDownAndUpWithHysteresis) {
  Driver d;
  EXPECT_EQ(d.feed(100 * KiB, 100 * KiB), QualityMode::High);
  EXPECT_EQ(d.feed(600 * KiB, 300 * KiB), QualityMode::Medium);  // > 512 KiB
  EXPECT_EQ(d.feed(300 * KiB, 300 * KiB), QualityMode::Medium);  // hysteresis: not < 128 KiB
  EXPECT_EQ(d.feed(2048 * KiB, 900 * KiB), QualityMode::Low);    // > 1 MiB
  EXPECT_EQ(d.feed(600 * KiB, 200 * KiB), QualityMode::Low);     // max not < 256 KiB
  EXPECT_EQ(d.feed(200 * KiB, 300 * KiB), QualityMode::Low);     // avg not < 256 KiB
  EXPECT_EQ(d.feed(200 * KiB, 100 * KiB), QualityMode::Medium);
  EXPECT_EQ(d.feed(100 * KiB, 100 * KiB), QualityMode::High);
  EXPECT_EQ(d.controller.stats().transitions, 4u);
  EXPECT_EQ(d.controller.stats().peakBuffered, 2048 * KiB);
  EXPECT_GT(d.controller.stats().msInMode[static_cast<int>(QualityMode::Low)], 0);
}

TEST(QualityController, NeverSkipsMediumAndDelaysFollowTheMode) {
  Driver d;
  EXPECT_EQ(d.controller.batchDelay(), std::chrono::milliseconds(0));
  EXPECT_EQ(d.feed(5000 * KiB, 5000 * KiB), QualityMode::Medium);
  EXPECT_EQ(d.controller.batchDelay(), std::chrono::milliseconds(50));
  EXPECT_EQ(d.feed(5000 * KiB, 5000 * KiB), QualityMode::Low);
  EXPECT_EQ(d.controller.batchDelay(), std::chrono::milliseconds(200));
  EXPECT_EQ(d.feed(0, 0), QualityMode::Medium);
  EXPECT_EQ(d.feed(0, 0), QualityMode::High);
}

TEST(QualityController, RejectsConfigurationsThatWouldOscillate) {
  auto rejected = [](auto change) {
    BandwidthConfig c;
    change(c);
    try {
      validate(c);
      return false;
    } catch (const Error& e) {
      return e.code() == Errc::InvalidArgument;
    }
  };
  EXPECT_TRUE(rejected([](BandwidthConfig& c) { c.thresholds.mediumToHigh = 600 * KiB; }));
  EXPECT_TRUE(rejected([](BandwidthConfig& c) { c.thresholds.lowToMedium = 2048 * KiB; }));
  EXPECT_TRUE(rejected([](BandwidthConfig& c) { c.thresholds.highToMedium = 4096 * KiB; }));
  EXPECT_TRUE(
      rejected([](BandwidthConfig& c) { c.batchDelays.low = std::chrono::milliseconds(10); }));
  EXPECT_TRUE(rejected([](BandwidthConfig& c) { c.checkInterval = std::chrono::milliseconds(0); }));
  EXPECT_FALSE(rejected([](BandwidthConfig&) {}));
  BandwidthConfig zero;
  zero.checkInterval = std::chrono::milliseconds(0);
  EXPECT_THROW(QualityController{zero}, Error);
}

}  // namespace
}  // namespace ifmesh
