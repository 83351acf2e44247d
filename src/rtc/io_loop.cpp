#include "rtc/io_loop.hpp"

#include <glib-unix.h>
#include <pthread.h>

#include <string>
#include <utility>

#include "rtc/udp_mux_hub.hpp"

namespace ifmesh::rtc {

struct IoLoop::TaskSource {
  GSource base;
  IoLoop* loop;
};

gboolean IoLoop::prepareTasks(GSource* source, gint* timeout) {
  *timeout = -1;
  return reinterpret_cast<TaskSource*>(source)->loop->hasTasks_.load(std::memory_order_acquire);
}

gboolean IoLoop::checkTasks(GSource* source) {
  return reinterpret_cast<TaskSource*>(source)->loop->hasTasks_.load(std::memory_order_acquire);
}

gboolean IoLoop::dispatchTasks(GSource* source, GSourceFunc, gpointer) {
  reinterpret_cast<TaskSource*>(source)->loop->runPending();
  return G_SOURCE_CONTINUE;
}

namespace {
GSourceFuncs kTaskFuncs = {};
thread_local IoLoop* currentLoop = nullptr;
}  // namespace

IoLoop* IoLoop::current() {
  return currentLoop;
}

IoLoop::IoLoop(std::size_t index, std::chrono::microseconds spin) : index_(index) {
  context_ = g_main_context_new_with_flags(G_MAIN_CONTEXT_FLAGS_NONE);
  kTaskFuncs.prepare = &IoLoop::prepareTasks;
  kTaskFuncs.check = &IoLoop::checkTasks;
  kTaskFuncs.dispatch = &IoLoop::dispatchTasks;
  taskSource_ = g_source_new(&kTaskFuncs, sizeof(TaskSource));
  reinterpret_cast<TaskSource*>(taskSource_)->loop = this;
  g_source_attach(taskSource_, context_);

  std::promise<void> started;
  auto ready = started.get_future();
  thread_ = std::thread([this, &started, spin] {
    std::string name = "ifmesh-io-" + std::to_string(index_);
    pthread_setname_np(pthread_self(), name.c_str());
    g_main_context_push_thread_default(context_);  // also acquires it for this thread
    currentLoop = this;
    threadId_ = std::this_thread::get_id();
    driver_ = std::make_unique<ContextDriver>(context_, spin.count());
    started.set_value();
    while (!quit_) {
      driver_->iterate(timers_.nextDeadlineUs());
      timers_.runDue();
    }
    // Drain what was posted before quit so no promise is left unresolved.
    runPending();
    udpMux_.reset();
    driver_.reset();
    g_main_context_pop_thread_default(context_);
  });
  ready.wait();
}

IoLoop::~IoLoop() {
  post([this] { quit_ = true; });
  if (thread_.joinable()) thread_.join();
  g_source_destroy(taskSource_);
  g_source_unref(taskSource_);
  g_main_context_unref(context_);
}

UdpMuxHub& IoLoop::udpMux() {
  if (!udpMux_) udpMux_ = std::make_unique<UdpMuxHub>(*this);
  return *udpMux_;
}

void IoLoop::post(Task task) {
  bool wasEmpty;
  {
    std::lock_guard lock(mutex_);
    wasEmpty = tasks_.empty();
    tasks_.push_back(std::move(task));
    hasTasks_.store(true, std::memory_order_release);
  }
  // On the loop thread the source's prepare() sees the task before the next poll; elsewhere the
  // loop may be asleep in poll and must be woken (once per batch).
  if (wasEmpty && !isLoopThread()) g_main_context_wakeup(context_);
}

void IoLoop::runPending() {
  std::deque<Task> batch;
  {
    std::lock_guard lock(mutex_);
    batch.swap(tasks_);
    hasTasks_.store(false, std::memory_order_release);
  }
  for (auto& task : batch) task();
}

IoLoop::Timer::Timer(IoLoop& loop, std::chrono::milliseconds interval, std::function<bool()> fn)
    : loop_(&loop), entry_(std::make_shared<TimerQueue::Entry>()) {
  entry_->interval = interval;
  entry_->fn = std::move(fn);
  entry_->deadlineUs = g_get_monotonic_time() + interval.count() * 1000;
  // A new earliest deadline from another thread must cut the loop's current wait short.
  if (loop.timers_.add(entry_) && !loop.isLoopThread()) g_main_context_wakeup(loop.context_);
}

IoLoop::Timer::~Timer() {
  cancel();
}

IoLoop::Timer::Timer(Timer&& other) noexcept
    : loop_(std::exchange(other.loop_, nullptr)), entry_(std::move(other.entry_)) {}

IoLoop::Timer& IoLoop::Timer::operator=(Timer&& other) noexcept {
  if (this != &other) {
    cancel();
    loop_ = std::exchange(other.loop_, nullptr);
    entry_ = std::move(other.entry_);
  }
  return *this;
}

bool IoLoop::Timer::active() const {
  return entry_ && !entry_->cancelled.load(std::memory_order_relaxed) && !entry_->fired;
}

void IoLoop::Timer::setInterval(std::chrono::milliseconds interval) {
  if (entry_) entry_->interval = interval;
}

void IoLoop::Timer::cancel() {
  if (!entry_) return;
  entry_->cancelled.store(true, std::memory_order_relaxed);
  // Release what the callback holds now, unless it is the one running (or off the loop thread,
  // where the loop may be about to run it): the queue drops it when the deadline comes.
  if (loop_ && loop_->isLoopThread() && !entry_->running) entry_->fn = nullptr;
  entry_.reset();
}

IoLoop::Timer IoLoop::addTimer(std::chrono::milliseconds interval, std::function<bool()> fn) {
  return Timer(*this, interval, std::move(fn));
}

}  // namespace ifmesh::rtc

namespace ifmesh::rtc {

IoLoop::FdWatch::FdWatch(GMainContext* context, int fd, std::function<void()> onReadable)
    : source_(g_unix_fd_source_new(fd, G_IO_IN)) {
  g_source_set_callback(source_, G_SOURCE_FUNC(&FdWatch::readable),
                        new std::function<void()>(std::move(onReadable)),
                        [](gpointer fn) { delete static_cast<std::function<void()>*>(fn); });
  g_source_attach(source_, context);
}

gboolean IoLoop::FdWatch::readable(gint, GIOCondition, gpointer fn) {
  (*static_cast<std::function<void()>*>(fn))();
  return G_SOURCE_CONTINUE;
}

IoLoop::FdWatch::~FdWatch() {
  cancel();
}

IoLoop::FdWatch::FdWatch(FdWatch&& other) noexcept
    : source_(std::exchange(other.source_, nullptr)) {}

IoLoop::FdWatch& IoLoop::FdWatch::operator=(FdWatch&& other) noexcept {
  if (this != &other) {
    cancel();
    source_ = std::exchange(other.source_, nullptr);
  }
  return *this;
}

void IoLoop::FdWatch::cancel() {
  if (!source_) return;
  g_source_destroy(source_);
  g_source_unref(source_);
  source_ = nullptr;
}

IoLoop::FdWatch IoLoop::watchReadable(int fd, std::function<void()> onReadable) {
  return FdWatch(context_, fd, std::move(onReadable));
}

}  // namespace ifmesh::rtc
