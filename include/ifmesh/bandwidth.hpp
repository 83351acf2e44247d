#pragma once
// Bandwidth adaptation: the largest and average bufferedAmount over an agent's channels, sampled
// every checkIntervalMs, move the agent between quality modes with hysteresis; each mode has a
// batching delay (messages to one peer are sent together once per delay).
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace ifmesh {

enum class QualityMode { High, Medium, Low };
const char* toString(QualityMode mode) noexcept;

struct BandwidthConfig {
  bool enabled = true;
  std::chrono::milliseconds checkInterval{100};
  struct Thresholds {
    std::size_t highToMedium = 512 * 1024;  // largest buffer above this: HIGH -> MEDIUM
    std::size_t mediumToLow = 1024 * 1024;  // MEDIUM -> LOW
    std::size_t lowToMedium = 256 * 1024;   // largest and average below this: LOW -> MEDIUM
    std::size_t mediumToHigh = 128 * 1024;  // MEDIUM -> HIGH
  } thresholds;
  struct BatchDelays {
    std::chrono::milliseconds high{0}, medium{50}, low{200};
  } batchDelays;
};

// Throws ifmesh::Error(InvalidArgument) for thresholds that would oscillate or delays that fall
// as quality drops.
void validate(const BandwidthConfig& config);

struct BandwidthStats {
  QualityMode mode = QualityMode::High;
  std::array<double, 3> msInMode{};  // indexed by QualityMode
  std::uint64_t transitions = 0;
  std::size_t maxBuffered = 0;   // in the latest sample
  std::size_t avgBuffered = 0;   // in the latest sample
  std::size_t peakBuffered = 0;  // since start
  std::size_t channelCount = 0;
  std::uint64_t samples = 0;
  std::uint64_t batchesSent = 0;
  std::uint64_t messagesBatched = 0;
};

// The mode state machine, separate from any I/O so it can be driven by recorded samples.
class QualityController {
 public:
  explicit QualityController(BandwidthConfig config);
  // Feeds one sample; returns true when the mode changed.
  bool update(std::size_t maxBuffered, std::size_t avgBuffered, std::size_t channels,
              std::chrono::steady_clock::time_point now);
  QualityMode mode() const { return stats_.mode; }
  const BandwidthStats& stats() const { return stats_; }
  BandwidthStats& stats() { return stats_; }
  std::chrono::milliseconds batchDelay() const;
  const BandwidthConfig& config() const { return config_; }

 private:
  BandwidthConfig config_;
  BandwidthStats stats_;
  std::chrono::steady_clock::time_point lastSample_{};
};

}  // namespace ifmesh
