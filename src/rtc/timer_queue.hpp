#pragma once
// The I/O loop's timers: a min-heap by deadline, fired by the loop thread between epoll waits.
//
// Why not GLib timeout sources: every source in the loop's context is visited on every iteration.
// A 100-agent mesh keeps thousands of per-link timers armed (acks, batches, attempt deadlines),
// which made each packet cost O(timers). Here arming is O(log n) and an idle timer costs nothing.
// Cancelling only marks the entry; it leaves the heap when its deadline comes.
#include <glib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <vector>

namespace ifmesh::rtc {

class TimerQueue {
 public:
  struct Entry {
    gint64 deadlineUs = 0;
    std::chrono::milliseconds interval{0};
    std::function<bool()> fn;  // true: fire again after interval; reset only on the loop thread
    std::atomic<bool> cancelled{false};
    bool fired = false;    // a one-shot that ran (loop thread)
    bool running = false;  // its callback is executing (loop thread)
  };

  // Thread-safe; returns whether the new deadline is now the earliest (the loop may need waking).
  bool add(const std::shared_ptr<Entry>& entry);
  // Earliest pending deadline (monotonic µs), or -1.
  gint64 nextDeadlineUs();
  // Runs every timer due by now. Loop thread.
  void runDue();

 private:
  struct Later {
    bool operator()(const std::shared_ptr<Entry>& a, const std::shared_ptr<Entry>& b) const {
      return a->deadlineUs > b->deadlineUs;
    }
  };
  std::mutex mutex_;
  std::priority_queue<std::shared_ptr<Entry>, std::vector<std::shared_ptr<Entry>>, Later> heap_;
};

}  // namespace ifmesh::rtc
