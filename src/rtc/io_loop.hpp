#pragma once
// The ifmesh threading model, in one place.
//
// * One I/O thread per process runs one GMainContext. Every libnice agent, every DTLS session,
//   every usrsctp association and every timer of every PeerConnection lives on it: there is no
//   thread per connection, so 200 (or 5,000) connections cost no extra threads.
// * All user callbacks (state changes, candidates, messages, open/close, bufferedAmountLow) run on
//   this thread. They must not block; they may call any ifmesh method (calls made on the I/O thread
//   run inline, calls from other threads are posted to it).
// * usrsctp runs without its own threads (usrsctp_init_nothreads): we drive its timers from this
//   loop, so its conn_output callback and socket upcalls only ever fire on this thread, inside a
//   usrsctp call we made. Upcalls never call back into usrsctp; they post the socket's work to run
//   after the current usrsctp call has returned (no re-entrancy, no lock-order deadlocks).
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

namespace ifmesh::rtc {

class IoLoop {
 public:
  using Task = std::function<void()>;

  IoLoop();
  ~IoLoop();
  IoLoop(const IoLoop&) = delete;
  IoLoop& operator=(const IoLoop&) = delete;

  GMainContext* context() const { return context_; }
  bool isLoopThread() const { return std::this_thread::get_id() == threadId_; }

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
    Timer(GMainContext* ctx, std::chrono::milliseconds interval, std::function<bool()> fn);
    ~Timer();
    Timer(Timer&& other) noexcept;
    Timer& operator=(Timer&& other) noexcept;
    void cancel();
    bool active() const { return source_ != nullptr; }

   private:
    struct State;
    GSource* source_ = nullptr;
  };
  // `fn` returns true to fire again after `interval`. Must be called on the loop thread.
  Timer addTimer(std::chrono::milliseconds interval, std::function<bool()> fn);

 private:
  struct TaskSource;
  static gboolean prepareTasks(GSource* source, gint* timeout);
  static gboolean checkTasks(GSource* source);
  static gboolean dispatchTasks(GSource* source, GSourceFunc, gpointer);
  void runPending();

  GMainContext* context_ = nullptr;
  GMainLoop* mainLoop_ = nullptr;
  GSource* taskSource_ = nullptr;
  std::mutex mutex_;
  std::deque<Task> tasks_;
  std::atomic<bool> hasTasks_{false};
  std::thread thread_;
  std::thread::id threadId_;
};

}  // namespace ifmesh::rtc
