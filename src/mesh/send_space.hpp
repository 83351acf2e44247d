#pragma once
// Room in an agent's send queues, for user threads that wait for it under QueuePolicy::Block: a
// generation that moves each time a queue shrinks, and a close that ends every wait. Any thread.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace ifmesh::detail {

class SendSpace {
 public:
  // A queue shrank.
  void freed() {
    {
      std::lock_guard lock(mutex_);
      ++generation_;
    }
    cv_.notify_all();
  }
  // Read before trying to send, so that no freed() after the try is missed.
  std::uint64_t generation() {
    std::lock_guard lock(mutex_);
    return generation_;
  }
  // Waits until the generation moves past `seen` or the agent closes; false at the deadline.
  bool wait(std::uint64_t seen, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    return cv_.wait_until(lock, deadline, [&] { return generation_ != seen || closed_; });
  }
  // The agent closed: every wait ends now, and later ones at once.
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::uint64_t generation_ = 0;  // guarded by mutex_
  bool closed_ = false;           // guarded by mutex_
};

}  // namespace ifmesh::detail
