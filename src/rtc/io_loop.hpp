#pragma once
// The ifmesh threading model, in one place.
//
// * A process runs a small fixed pool of I/O threads (Runtime: one per core, at most 4;
//   IFMESH_IO_THREADS overrides), each running one GMainContext. A PeerConnection is pinned to
//   one of them for its whole life: its libnice agent, DTLS session, usrsctp association and
//   timers all live there. There is no thread per connection, so 200 (or 10,000) connections cost
//   no extra threads, and two busy connections can use two cores.
// * All user callbacks of one PeerConnection (state changes, candidates, messages, open/close,
//   bufferedAmountLow) run on its I/O thread. They must not block; they may call any method of a
//   connection on the same thread (inline). Calls from other threads are posted to the owner and
//   waited for, so a callback must not synchronously call a connection on a *different* I/O
//   thread that may be calling back at the same time (two loops waiting on each other). An Agent
//   pins all its connections to one thread (RtcConfiguration::ioThread), which avoids that.
// * An I/O thread that found work polls for up to 50 µs (IFMESH_IO_SPIN_US; 0 turns it off)
//   before it sleeps, so that a reply arriving soon does not pay a wake-up.
// * usrsctp runs without its own threads (usrsctp_init_nothreads). I/O thread 0 drives its
//   timers; packets and upcalls it raises for an association owned by another thread are handed
//   to the owner (Runtime::onSctpOutput). Upcalls never call back into usrsctp; they post the
//   socket's work to run after the current usrsctp call has returned (no re-entrancy, no
//   lock-order deadlocks).
// * A user's thread hands a send to the stack by appending to the association's send queue (a
//   short mutex) and, if no flush is pending, posting one flush task; bufferedAmount counts what is
//   in that queue. On the I/O thread itself the send is attempted immediately.
#include <glib.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "rtc/context_driver.hpp"
#include "rtc/timer_queue.hpp"

namespace ifmesh::rtc {

class UdpMuxHub;

class IoLoop {
 public:
  using Task = std::function<void()>;

  // `spin`: how long the thread polls after a round with work before it sleeps (ContextDriver).
  explicit IoLoop(std::size_t index = 0, std::chrono::microseconds spin = {});
  ~IoLoop();
  IoLoop(const IoLoop&) = delete;
  IoLoop& operator=(const IoLoop&) = delete;

  // A context for one connection's libnice agent, shared with a few others and driven by this
  // loop (see ContextDriver). Loop thread only.
  ContextDriver::Lease leaseContext() { return driver_->lease(); }
  std::size_t index() const { return index_; }
  // Scratch space for reading DTLS records and SCTP messages. Reads happen only on this loop's
  // thread and each is consumed before the next begins, so one buffer serves every connection
  // of the loop (a buffer per connection cost 128 KiB each: 1.2 GiB for a 100-agent mesh).
  std::vector<std::byte>& dtlsScratch() { return dtlsScratch_; }
  std::vector<std::byte>& sctpScratch() { return sctpScratch_; }
  // Datagrams one connection's ICE transport holds back while it handles a received datagram,
  // to send them as one batch (nice_ice_transport.cpp). One owner at a time per loop, for the same
  // reason as the scratch buffers above; kept here so their capacity is not kept per connection.
  struct HeldDatagrams {
    const void* owner = nullptr;
    std::vector<std::byte> bytes;   // back to back
    std::vector<std::size_t> ends;  // where each ends in `bytes`
  };
  HeldDatagrams& heldDatagrams() { return heldDatagrams_; }
  // The UDP sockets this loop's connections share (udp_mux_hub.hpp): made on first use,
  // destroyed on this thread when the loop ends. Loop thread only.
  UdpMuxHub& udpMux();
  bool isLoopThread() const { return std::this_thread::get_id() == threadId_; }
  // The loop whose thread is calling, or null on any other thread.
  static IoLoop* current();

  // Runs `task` on the loop thread after the current dispatch returns. Thread-safe.
  void post(Task task);

  // Runs `fn` on the loop thread and returns its result (or rethrows its exception). Inline when
  // called on the loop thread.
  template <typename Fn>
  auto invoke(Fn&& fn) -> decltype(fn()) {
    if (isLoopThread()) return fn();
    using R = decltype(fn());
    auto promise = std::make_shared<std::promise<R>>();
    auto future = promise->get_future();
    post([promise, &fn]() {
      try {
        if constexpr (std::is_void_v<R>) {
          fn();
          promise->set_value();
        } else {
          promise->set_value(fn());
        }
      } catch (...) {
        promise->set_exception(std::current_exception());
      }
    });
    return future.get();
  }

  // A one-shot or repeating timer on the loop; the returned handle cancels it when destroyed.
  class Timer {
   public:
    Timer() = default;
    Timer(IoLoop& loop, std::chrono::milliseconds interval, std::function<bool()> fn);
    ~Timer();
    Timer(Timer&& other) noexcept;
    Timer& operator=(Timer&& other) noexcept;
    void cancel();
    // A repeating timer's next wait (from its next firing on). Loop thread.
    void setInterval(std::chrono::milliseconds interval);
    // False once cancelled or once a one-shot has fired.
    bool active() const;

   private:
    IoLoop* loop_ = nullptr;
    std::shared_ptr<TimerQueue::Entry> entry_;
  };
  // `fn` returns true to fire again after `interval`. Runs on the loop thread.
  Timer addTimer(std::chrono::milliseconds interval, std::function<bool()> fn);

  // Calls `onReadable` on the loop thread whenever `fd` has data to read, until the returned
  // handle is destroyed (or cancelled), which `onReadable` itself may do. Create and destroy it
  // on the loop thread.
  class FdWatch {
   public:
    FdWatch() = default;
    FdWatch(GMainContext* context, int fd, std::function<void()> onReadable);
    ~FdWatch();
    FdWatch(FdWatch&& other) noexcept;
    FdWatch& operator=(FdWatch&& other) noexcept;
    void cancel();

   private:
    static gboolean readable(gint fd, GIOCondition condition, gpointer fn);
    // The source owns the callback: GLib frees it once the source is gone and not dispatching.
    GSource* source_ = nullptr;
  };
  FdWatch watchReadable(int fd, std::function<void()> onReadable);

 private:
  struct TaskSource;
  static gboolean prepareTasks(GSource* source, gint* timeout);
  static gboolean checkTasks(GSource* source);
  static gboolean dispatchTasks(GSource* source, GSourceFunc, gpointer);
  void runPending();

  std::size_t index_ = 0;
  std::vector<std::byte> dtlsScratch_ = std::vector<std::byte>(1 << 16);
  std::vector<std::byte> sctpScratch_ = std::vector<std::byte>(1 << 16);
  HeldDatagrams heldDatagrams_;
  std::unique_ptr<UdpMuxHub> udpMux_;
  GMainContext* context_ = nullptr;  // the loop's own context: posted tasks (timers: timers_)
  std::unique_ptr<ContextDriver> driver_;
  TimerQueue timers_;
  bool quit_ = false;  // loop thread only
  GSource* taskSource_ = nullptr;
  std::mutex mutex_;
  std::deque<Task> tasks_;
  std::atomic<bool> hasTasks_{false};
  std::thread thread_;
  std::thread::id threadId_;
};

}  // namespace ifmesh::rtc
