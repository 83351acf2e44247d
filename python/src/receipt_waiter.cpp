#include "receipt_waiter.hpp"

#include <utility>
#include <vector>

namespace ifmesh::python {

namespace {

bool ready(const std::shared_future<void>& f) {
  return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

}  // namespace

ReceiptWaiter::ReceiptWaiter(Done done) : done_(std::move(done)) {
  thread_ = std::thread([this] { run(); });
}

ReceiptWaiter::~ReceiptWaiter() {
  stop();
}

void ReceiptWaiter::add(const std::string& queue, Receipt receipt) {
  bool first = false;
  {
    std::lock_guard lock(mutex_);
    if (stop_) return;
    if (!receipt.messageId.empty()) awaited_.insert(receipt.messageId);
    first = queues_.empty();
    queues_[queue].push_back({nextOrder_++, std::move(receipt)});
  }
  // Only an idle thread waits on the condition; a busy one sees the receipt when it wakes.
  if (first) wake_.notify_one();
}

bool ReceiptWaiter::claimFailure(const std::string& messageId) {
  std::lock_guard lock(mutex_);
  return awaited_.erase(messageId) > 0;
}

void ReceiptWaiter::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    queues_.clear();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ReceiptWaiter::run() {
  std::vector<std::pair<Receipt, std::exception_ptr>> finished;
  std::unique_lock lock(mutex_);
  for (;;) {
    // Every completed receipt at the front of a queue.
    for (auto it = queues_.begin(); it != queues_.end();) {
      auto& q = it->second;
      while (!q.empty() && ready(q.front().receipt.future)) {
        std::exception_ptr error;
        try {
          q.front().receipt.future.get();
        } catch (...) {
          error = std::current_exception();
        }
        if (!error && !q.front().receipt.messageId.empty())
          awaited_.erase(q.front().receipt.messageId);
        finished.emplace_back(std::move(q.front().receipt), error);
        q.pop_front();
      }
      it = q.empty() ? queues_.erase(it) : std::next(it);
    }
    if (!finished.empty()) {
      lock.unlock();
      for (auto& [receipt, error] : finished) done_(receipt, error);
      finished.clear();
      lock.lock();
      continue;  // more may have completed meanwhile
    }
    if (stop_) return;
    if (queues_.empty()) {
      wake_.wait(lock, [&] { return stop_ || !queues_.empty(); });
      continue;
    }
    // Block on the oldest open receipt (a copy: its queue may change meanwhile).
    const Entry* oldest = nullptr;
    for (auto& [name, q] : queues_)
      if (!oldest || q.front().order < oldest->order) oldest = &q.front();
    std::shared_future<void> f = oldest->receipt.future;
    lock.unlock();
    f.wait_for(kSweepInterval);
    lock.lock();
  }
}

}  // namespace ifmesh::python
