#include "bench/backpressured_send.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>

namespace ifmesh::bench {

std::uint64_t sendUnderBackpressure(DataChannel& sender, const Binary& message,
                                    std::chrono::milliseconds duration,
                                    const std::function<bool()>& giveUp,
                                    const std::function<void(std::uint64_t)>& sent) {
  constexpr std::size_t kHigh = 4 * 1024 * 1024, kLow = 1024 * 1024;
  // Shared with the event handler, which may still be running on the I/O thread when this
  // function has returned.
  struct Drain {
    std::mutex mutex;
    std::condition_variable drained;
  };
  auto drain = std::make_shared<Drain>();
  sender.setBufferedAmountLowThreshold(kLow);
  sender.onBufferedAmountLow([drain] {
    std::lock_guard lock(drain->mutex);
    drain->drained.notify_all();
  });
  std::uint64_t count = 0;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < duration) {
    if (sender.bufferedAmount() > kHigh) {
      std::unique_lock lock(drain->mutex);
      drain->drained.wait_for(lock, std::chrono::milliseconds(20),
                              [&] { return sender.bufferedAmount() <= kLow; });
      if (giveUp && giveUp()) break;
      continue;
    }
    sender.send(message);
    ++count;
    if (sent) sent(count);
  }
  sender.onBufferedAmountLow(nullptr);
  return count;
}

}  // namespace ifmesh::bench
