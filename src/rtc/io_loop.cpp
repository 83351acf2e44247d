#include "rtc/io_loop.hpp"

#include <pthread.h>

#include <string>
#include <utility>

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

IoLoop::IoLoop(std::size_t index) : index_(index) {
  context_ = g_main_context_new_with_flags(G_MAIN_CONTEXT_FLAGS_NONE);
  kTaskFuncs.prepare = &IoLoop::prepareTasks;
  kTaskFuncs.check = &IoLoop::checkTasks;
  kTaskFuncs.dispatch = &IoLoop::dispatchTasks;
  taskSource_ = g_source_new(&kTaskFuncs, sizeof(TaskSource));
  reinterpret_cast<TaskSource*>(taskSource_)->loop = this;
  g_source_attach(taskSource_, context_);

  std::promise<void> started;
  auto ready = started.get_future();
  thread_ = std::thread([this, &started] {
    std::string name = "ifmesh-io-" + std::to_string(index_);
    pthread_setname_np(pthread_self(), name.c_str());
    g_main_context_push_thread_default(context_);  // also acquires it for this thread
    currentLoop = this;
    threadId_ = std::this_thread::get_id();
    driver_ = std::make_unique<ContextDriver>(context_);
    started.set_value();
    while (!quit_) driver_->iterate();
    // Drain what was posted before quit so no promise is left unresolved.
    runPending();
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

struct IoLoop::Timer::State {
  std::function<bool()> fn;
  static gboolean fire(gpointer data) {
    return static_cast<State*>(data)->fn() ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
  }
  static void destroy(gpointer data) { std::unique_ptr<State>(static_cast<State*>(data)); }
};

IoLoop::Timer::Timer(GMainContext* ctx, std::chrono::milliseconds interval,
                     std::function<bool()> fn) {
  source_ = g_timeout_source_new(static_cast<guint>(interval.count()));
  auto state = std::make_unique<State>(State{std::move(fn)});
  g_source_set_callback(source_, &State::fire, state.release(), &State::destroy);
  g_source_attach(source_, ctx);
}

IoLoop::Timer::~Timer() {
  cancel();
}

IoLoop::Timer::Timer(Timer&& other) noexcept : source_(std::exchange(other.source_, nullptr)) {}

IoLoop::Timer& IoLoop::Timer::operator=(Timer&& other) noexcept {
  if (this != &other) {
    cancel();
    source_ = std::exchange(other.source_, nullptr);
  }
  return *this;
}

bool IoLoop::Timer::active() const {
  return source_ != nullptr && !g_source_is_destroyed(source_);
}

void IoLoop::Timer::cancel() {
  if (source_) {
    g_source_destroy(source_);
    g_source_unref(source_);
    source_ = nullptr;
  }
}

IoLoop::Timer IoLoop::addTimer(std::chrono::milliseconds interval, std::function<bool()> fn) {
  return Timer(context_, interval, std::move(fn));
}

}  // namespace ifmesh::rtc
