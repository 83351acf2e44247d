#pragma once
// Turns the futures of Agent::sendAsync receipts into outcomes, on a thread of its own so that
// neither the agent's I/O thread nor Python waits for them. Receipts are kept in queues whose
// futures complete in order: one queue per destination (the link acknowledges each lane
// cumulatively) and one for the state store's commits. The thread blocks on the oldest
// outstanding receipt and, whenever it wakes, takes every completed receipt at the front of
// each queue: a receipt is reported the moment it completes when it is the oldest, and at
// most kSweepInterval after it completes when an older one (to a slower destination) is
// still open.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>

namespace ifmesh::python {

class ReceiptWaiter {
 public:
  struct Receipt {
    std::uint64_t token = 0;
    std::uint64_t sequence = 0;
    std::string messageId;  // set for an acknowledgement, empty for a commit
    std::shared_future<void> future;
  };
  // Called on the waiter's thread, without its lock held: error is null on success.
  using Done = std::function<void(const Receipt&, std::exception_ptr error)>;

  static constexpr auto kSweepInterval = std::chrono::milliseconds(20);

  explicit ReceiptWaiter(Done done);
  ~ReceiptWaiter();
  ReceiptWaiter(const ReceiptWaiter&) = delete;
  ReceiptWaiter& operator=(const ReceiptWaiter&) = delete;

  // Waits for the receipt in `queue` (a destination, or "" for commits). Ignored once stopped.
  void add(const std::string& queue, Receipt receipt);
  // True, once, for the id of a message whose acknowledgement is being waited for or that
  // failed: its failure is (or was) reported through Done.
  bool claimFailure(const std::string& messageId);
  // Ends the thread; receipts still open are dropped unreported. Idempotent.
  void stop();

 private:
  struct Entry {
    std::uint64_t order;
    Receipt receipt;
  };
  void run();

  Done done_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::uint64_t nextOrder_ = 0;
  std::map<std::string, std::deque<Entry>> queues_;
  std::unordered_set<std::string> awaited_;  // message ids of open or failed acknowledgements
  std::thread thread_;
};

}  // namespace ifmesh::python
