#pragma once
// An agent's bandwidth adaptation: its QualityController fed with samples of its links, and the
// statistics users read. Samples and counts come from the loop thread; mode() and stats() may be
// called from any thread.
#include <chrono>
#include <mutex>
#include <optional>
#include <utility>

#include "ifmesh/bandwidth.hpp"

namespace ifmesh::detail {

class AgentBandwidth {
 public:
  explicit AgentBandwidth(const BandwidthConfig& config)
      : enabled_(config.enabled), quality_(config) {}

  struct Sample {
    std::size_t maxBuffered = 0, avgBuffered = 0, channels = 0;
    std::size_t queuedMessages = 0, queuedBytes = 0;
  };
  // Records a sample of every link; returns the mode change it caused (old, new), if any.
  std::optional<std::pair<QualityMode, QualityMode>> sample(
      const Sample& s, std::chrono::steady_clock::time_point now);
  // The current mode's batch delay (0 with adaptation off). Loop thread.
  std::chrono::milliseconds batchDelay() const;
  void batchSent(std::size_t messages);
  void compressed(std::size_t before, std::size_t after);
  void dropped();   // by QueuePolicy::DropOldest
  void rejected();  // a send refused with QueueFull

  QualityMode mode();
  BandwidthStats stats();

 private:
  const bool enabled_;
  std::mutex mutex_;
  QualityController
      quality_;  // guarded by mutex_ (batchDelay reads it on the loop thread, its writer)
};

}  // namespace ifmesh::detail
