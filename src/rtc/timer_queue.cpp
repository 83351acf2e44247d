#include "rtc/timer_queue.hpp"

#include <algorithm>

namespace ifmesh::rtc {

bool TimerQueue::add(const std::shared_ptr<Entry>& entry) {
  std::lock_guard lock(mutex_);
  heap_.push(entry);
  return heap_.top() == entry;
}

gint64 TimerQueue::nextDeadlineUs() {
  std::lock_guard lock(mutex_);
  // Cancelled entries at the top would only cause empty wake-ups: drop them here.
  while (!heap_.empty() && heap_.top()->cancelled.load(std::memory_order_relaxed)) heap_.pop();
  return heap_.empty() ? -1 : heap_.top()->deadlineUs;
}

void TimerQueue::runDue() {
  gint64 now = g_get_monotonic_time();
  for (;;) {
    std::shared_ptr<Entry> entry;
    {
      std::lock_guard lock(mutex_);
      if (heap_.empty() || heap_.top()->deadlineUs > now) return;
      entry = heap_.top();
      heap_.pop();
    }
    if (entry->cancelled.load(std::memory_order_relaxed)) {
      entry->fn = nullptr;
      continue;
    }
    // The callback may cancel or replace its own handle: `entry` keeps the function alive.
    entry->running = true;
    bool again = entry->fn();
    entry->running = false;
    if (again && !entry->cancelled.load(std::memory_order_relaxed)) {
      // After `now`, so a zero-interval timer waits for the next round instead of spinning here.
      entry->deadlineUs =
          std::max(now + 1, g_get_monotonic_time() + entry->interval.count() * 1000);
      std::lock_guard lock(mutex_);
      heap_.push(entry);
    } else {
      entry->fired = true;
      entry->fn = nullptr;  // releases what it captured
    }
  }
}

}  // namespace ifmesh::rtc
