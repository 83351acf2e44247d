#pragma once
// Bandwidth adaptation: the largest and average bufferedAmount over an agent's channels, sampled
// every checkIntervalMs, move the agent between quality modes with hysteresis; each mode has a
// batching delay (messages to one peer are sent together once per delay).
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "ifmesh/export.hpp"

namespace ifmesh {

enum class QualityMode { High, Medium, Low };

// What Agent::send does when a peer's send queue is at its bound.
//   Block: a user thread waits (up to blockTimeout, then QueueFull); on the agent's I/O thread
//          (inside a callback) it behaves like Fail, since waiting there would stall the agent.
//   Fail: throws ifmesh::Error(QueueFull).
//   DropOldest: drops the oldest messages marked droppable that have not been sent yet, each
//          reported through onUndeliverable ("dropped: queue full") and the witness event
//          ifmessage_dropped; when dropping cannot make room it behaves like Fail.
enum class QueuePolicy { Block, Fail, DropOldest };
IFMESH_API const char* toString(QueuePolicy policy) noexcept;
IFMESH_API const char* toString(QualityMode mode) noexcept;

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
  // Per peer link: messages accepted but not yet acknowledged by the neighbour (waiting, batched,
  // in the channel, or held for resend across a reconnection). Messages forwarded for other
  // agents are not bounded here (their senders are).
  struct Queue {
    std::size_t maxMessages = 10000;
    std::size_t maxBytes = 16 * 1024 * 1024;  // their serialized IFMessages (JSON text)
    QueuePolicy policy = QueuePolicy::Fail;
    std::chrono::milliseconds blockTimeout{10000};
    // Normal and Low messages wait in the agent while the channel holds this much, so a Control
    // or High message never queues behind megabytes in the SCTP send buffer.
    std::size_t channelHighWater = 64 * 1024;
  } queue;
  // LOW mode: channel messages (single frames or batches) above threshold bytes go out
  // zstd-compressed; the receiver inflates them (bounded by its maxMessageBytes).
  struct Compression {
    bool enabled = true;
    std::size_t threshold = 1024;
    int level = 3;
  } compression;
};

// Throws ifmesh::Error(InvalidArgument) for thresholds that would oscillate or delays that fall
// as quality drops.
IFMESH_API void validate(const BandwidthConfig& config);

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
  // Compressed channel messages only: their size before and after zstd.
  std::uint64_t compressedFrames = 0;
  std::uint64_t bytesBeforeCompression = 0;
  std::uint64_t bytesAfterCompression = 0;
  // Send queues over all links (messages accepted and not yet acknowledged), as last sampled.
  std::size_t queuedMessages = 0;
  std::size_t queuedBytes = 0;
  std::size_t peakQueuedMessages = 0;
  std::uint64_t droppedMessages = 0;   // DropOldest
  std::uint64_t rejectedMessages = 0;  // QueueFull thrown
};

// The mode state machine, separate from any I/O so it can be driven by recorded samples.
class IFMESH_API QualityController {
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
