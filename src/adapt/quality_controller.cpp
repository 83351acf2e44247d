#include "ifmesh/bandwidth.hpp"
#include "ifmesh/error.hpp"

namespace ifmesh {

const char* toString(QueuePolicy policy) noexcept {
  switch (policy) {
    case QueuePolicy::Block:
      return "block";
    case QueuePolicy::Fail:
      return "fail";
    case QueuePolicy::DropOldest:
      return "drop-oldest";
  }
  return "unknown";
}

const char* toString(QualityMode mode) noexcept {
  switch (mode) {
    case QualityMode::High:
      return "HIGH";
    case QualityMode::Medium:
      return "MEDIUM";
    case QualityMode::Low:
      return "LOW";
  }
  return "UNKNOWN";
}

void validate(const BandwidthConfig& c) {
  const auto& t = c.thresholds;
  auto bad = [](const std::string& why) {
    return Error(Errc::InvalidArgument, "bandwidth config: " + why);
  };
  if (c.checkInterval.count() <= 0) throw bad("checkInterval must be positive");
  // Each way back up must sit below the way down, or the mode would flip on every sample.
  if (t.mediumToHigh >= t.highToMedium) throw bad("mediumToHigh must be below highToMedium");
  if (t.lowToMedium >= t.mediumToLow) throw bad("lowToMedium must be below mediumToLow");
  if (t.highToMedium > t.mediumToLow) throw bad("highToMedium must not exceed mediumToLow");
  if (t.mediumToHigh > t.lowToMedium) throw bad("mediumToHigh must not exceed lowToMedium");
  const auto& d = c.batchDelays;
  if (d.high.count() < 0 || d.medium < d.high || d.low < d.medium)
    throw bad("batch delays must be non-negative and grow as quality drops");
  const auto& q = c.queue;
  if (q.maxMessages == 0 || q.maxBytes == 0) throw bad("queue bounds must be positive");
  if (q.blockTimeout.count() < 0) throw bad("queue blockTimeout must not be negative");
  if (q.channelHighWater == 0) throw bad("queue channelHighWater must be positive");
  if (c.compression.level < 1 || c.compression.level > 19)
    throw bad("compression level must be 1..19");
}

QualityController::QualityController(BandwidthConfig config) : config_(config) {
  validate(config_);
}

bool QualityController::update(std::size_t maxBuffered, std::size_t avgBuffered,
                               std::size_t channels, std::chrono::steady_clock::time_point now) {
  if (stats_.samples > 0)
    stats_.msInMode[static_cast<int>(stats_.mode)] +=
        std::chrono::duration<double, std::milli>(now - lastSample_).count();
  lastSample_ = now;
  ++stats_.samples;
  stats_.maxBuffered = maxBuffered;
  stats_.avgBuffered = avgBuffered;
  stats_.peakBuffered = std::max(stats_.peakBuffered, maxBuffered);
  stats_.channelCount = channels;
  const auto& t = config_.thresholds;
  QualityMode next = stats_.mode;
  // One step per sample: HIGH -> MEDIUM -> LOW and back, never skipping MEDIUM.
  switch (stats_.mode) {
    case QualityMode::High:
      if (maxBuffered > t.highToMedium) next = QualityMode::Medium;
      break;
    case QualityMode::Medium:
      if (maxBuffered > t.mediumToLow)
        next = QualityMode::Low;
      else if (maxBuffered < t.mediumToHigh && avgBuffered < t.mediumToHigh)
        next = QualityMode::High;
      break;
    case QualityMode::Low:
      if (maxBuffered < t.lowToMedium && avgBuffered < t.lowToMedium) next = QualityMode::Medium;
      break;
  }
  if (next == stats_.mode) return false;
  stats_.mode = next;
  ++stats_.transitions;
  return true;
}

std::chrono::milliseconds QualityController::batchDelay() const {
  switch (stats_.mode) {
    case QualityMode::High:
      return config_.batchDelays.high;
    case QualityMode::Medium:
      return config_.batchDelays.medium;
    case QualityMode::Low:
      return config_.batchDelays.low;
  }
  return config_.batchDelays.high;
}

}  // namespace ifmesh
