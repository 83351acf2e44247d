#include "mesh/link_output.hpp"

#include <algorithm>

#include "mesh/frame_compression.hpp"

namespace ifmesh::detail::link {

FrameOutput::FrameOutput(std::function<void(std::size_t, std::size_t)> compressed,
                         std::function<void(std::size_t)> batched)
    : compressed_(std::move(compressed)),
      batched_(std::move(batched)),
      batchLimit_(kMaxBatchBytes) {}

void FrameOutput::setChannelMessageLimit(std::size_t bytes) {
  batchLimit_ = bytes == 0 ? kMaxBatchBytes : std::min(bytes, kMaxBatchBytes);
}

void FrameOutput::setCompression(bool enabled, std::size_t threshold, int level) {
  compress_ = enabled;
  compressThreshold_ = threshold;
  compressLevel_ = level;
}

void FrameOutput::send(Clock::time_point now, std::string frame, bool urgent) {
  // Control/High frames go out at once, ahead of whatever waits in the batch.
  const bool noDelay = batchDelay_.count() == 0;
  if (urgent || (noDelay && !coalesce_ && batch_.empty())) return sendNow(std::move(frame), urgent);
  // MEDIUM/LOW quality: frames leave together, once per batch delay; HIGH with coalesce_: those
  // of one pass.
  if (!fitsBatch(batchBytes_, frame.size())) flush();
  batchBytes_ += frame.size() + 1;
  batch_.push_back(std::move(frame));
  if (!batchDue_)
    batchDue_ =
        noDelay && coalesce_ ? now : now + std::max(batchDelay_, std::chrono::milliseconds(1));
}

void FrameOutput::flush() {
  batchDue_.reset();
  if (batch_.empty()) return;
  if (batch_.size() == 1) {
    sendNow(std::move(batch_.front()), false);
  } else {
    sendNow(encodeBatch(batch_), false);
    batched_(batch_.size());
  }
  batch_.clear();
  batchBytes_ = 0;
}

void FrameOutput::reset() {
  peerReadsZstd_ = false;
  batch_.clear();
  batchBytes_ = 0;
  batchDue_.reset();
  output_.clear();
  outputBytes_ = 0;
}

std::vector<Outgoing> FrameOutput::take() {
  outputBytes_ = 0;
  return std::exchange(output_, {});
}

void FrameOutput::sendNow(std::string text, bool urgent) {
  if (compress_ && peerReadsZstd_ && text.size() > compressThreshold_) {
    if (auto z = compressFrame(text, compressLevel_)) {
      compressed_(text.size(), z->size());
      outputBytes_ += z->size();
      output_.push_back({std::move(*z), true, urgent});
      return;
    }
  }
  outputBytes_ += text.size();
  output_.push_back({std::move(text), false, urgent});
}

}  // namespace ifmesh::detail::link
