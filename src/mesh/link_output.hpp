#pragma once
// What a link session sends, in order (docs/link-protocol.md, batching and compression): a frame
// leaves alone or with the others queued in the same pass, or in MEDIUM/LOW quality together
// with the others of one batch delay, and in LOW compressed with zstd toward a peer whose hello
// says it reads it. Sans-IO: frames and time come
// in, channel messages go out through take(). One thread calls it.
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mesh/link_codec.hpp"

namespace ifmesh::detail::link {

// One channel message to send, in order.
struct Outgoing {
  std::string bytes;
  bool binary = false;  // a compressed frame ("IFZ1" + zstd)
  // A hello, or a Control/High frame: it must not wait behind the transport's send window.
  bool urgent = false;
};

class FrameOutput {
 public:
  using Clock = std::chrono::steady_clock;
  // compressed(before, after): a frame went out compressed. batched(frames): a batch went out.
  FrameOutput(std::function<void(std::size_t, std::size_t)> compressed,
              std::function<void(std::size_t)> batched);

  void setBatchDelay(std::chrono::milliseconds delay) { batchDelay_ = delay; }
  // With a batch delay of 0, frames still leave together when queued in one pass: they wait in
  // the batch, due at once (batchDue() is the time they were queued), until the caller's
  // flush() at that deadline, once its work at hand is done. Without, each leaves alone.
  void setCoalesce(bool on) { coalesce_ = on; }
  bool coalescing() const { return coalesce_; }
  void setCompression(bool enabled, std::size_t threshold, int level);
  // What the peer's hello on this connection announced.
  void setPeerReadsZstd(bool reads) { peerReadsZstd_ = reads; }
  // The largest channel message the connection takes (its max-message-size; 0: no limit of its
  // own). Batches stay within it and within kMaxBatchBytes.
  void setChannelMessageLimit(std::size_t bytes);

  // Queues a frame. Urgent ones (a hello, Control/High) leave at once, ahead of the batch.
  void send(Clock::time_point now, std::string frame, bool urgent);
  // Queues a frame to leave at once, not batched.
  void sendNow(std::string frame, bool urgent);
  // Sends what waits in the batch now.
  void flush();
  // The connection closed: what was not taken is dropped (the session's queue still holds
  // every message in it as sent, to resend after the next hello).
  void reset();

  std::vector<Outgoing> take();
  // Bytes of output not yet taken, and bytes waiting in the batch.
  std::size_t pendingBytes() const { return outputBytes_; }
  std::size_t batchBytes() const { return batchBytes_; }
  std::optional<Clock::time_point> batchDue() const { return batchDue_; }

 private:
  std::function<void(std::size_t, std::size_t)> compressed_;
  std::function<void(std::size_t)> batched_;
  std::chrono::milliseconds batchDelay_{0};
  bool coalesce_ = false;
  std::vector<std::string> batch_;
  std::size_t batchBytes_ = 0;  // the batch's frames, one comma counted with each
  std::size_t batchLimit_;      // bytes of a whole batch message
  std::optional<Clock::time_point> batchDue_;
  bool compress_ = false;
  bool peerReadsZstd_ = false;
  std::size_t compressThreshold_ = 0;
  int compressLevel_ = 3;
  // Whether frames of `bytes` (commas counted) and one more of `frame` fit in one batch message.
  bool fitsBatch(std::size_t bytes, std::size_t frame) const {
    return kBatchOverhead + bytes + frame <= batchLimit_;
  }
  std::vector<Outgoing> output_;
  std::size_t outputBytes_ = 0;
};

}  // namespace ifmesh::detail::link
