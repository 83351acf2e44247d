#include "mesh/agent_bandwidth.hpp"

#include <algorithm>

namespace ifmesh::detail {

std::optional<std::pair<QualityMode, QualityMode>> AgentBandwidth::sample(
    const Sample& s, std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto& st = quality_.stats();
  st.queuedMessages = s.queuedMessages;
  st.queuedBytes = s.queuedBytes;
  st.peakQueuedMessages = std::max(st.peakQueuedMessages, s.queuedMessages);
  if (!enabled_) {
    st.maxBuffered = s.maxBuffered;
    st.avgBuffered = s.avgBuffered;
    st.peakBuffered = std::max(st.peakBuffered, s.maxBuffered);
    st.channelCount = s.channels;
    ++st.samples;
    return std::nullopt;
  }
  QualityMode before = quality_.mode();
  quality_.update(s.maxBuffered, s.avgBuffered, s.channels, now);
  QualityMode after = quality_.mode();
  if (before == after) return std::nullopt;
  return std::make_pair(before, after);
}

std::chrono::milliseconds AgentBandwidth::batchDelay() const {
  return enabled_ ? quality_.batchDelay() : std::chrono::milliseconds(0);
}

void AgentBandwidth::batchSent(std::size_t messages) {
  std::lock_guard lock(mutex_);
  ++quality_.stats().batchesSent;
  quality_.stats().messagesBatched += messages;
}

void AgentBandwidth::compressed(std::size_t before, std::size_t after) {
  std::lock_guard lock(mutex_);
  auto& st = quality_.stats();
  ++st.compressedFrames;
  st.bytesBeforeCompression += before;
  st.bytesAfterCompression += after;
}

void AgentBandwidth::dropped() {
  std::lock_guard lock(mutex_);
  ++quality_.stats().droppedMessages;
}

void AgentBandwidth::rejected() {
  std::lock_guard lock(mutex_);
  ++quality_.stats().rejectedMessages;
}

QualityMode AgentBandwidth::mode() {
  std::lock_guard lock(mutex_);
  return quality_.mode();
}

BandwidthStats AgentBandwidth::stats() {
  std::lock_guard lock(mutex_);
  return quality_.stats();
}

}  // namespace ifmesh::detail
