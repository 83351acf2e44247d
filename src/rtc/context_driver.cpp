#include "rtc/context_driver.hpp"
#include "ifmesh/error.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

namespace ifmesh::rtc {

namespace {
constexpr gint64 kVerifyWindowUs = 1'000'000;  // a new connection's sockets exist by then
}  // namespace

struct ContextDriver::Cell {
  ContextDriver* driver = nullptr;
  GMainContext* context = nullptr;
  bool root = false;
  std::size_t members = 0;
  gint maxPriority = 0;
  std::vector<GPollFD> fds = std::vector<GPollFD>(8);  // capacity; the first nfds are in use
  gint nfds = 0;
  std::vector<std::pair<int, std::uint32_t>> registered;  // sorted by descriptor
  gint64 deadlineUs = -1;                                 // monotonic; -1: none
  std::uint64_t generation = 0;                           // bumped by every prepare
  // Until then every descriptor is re-checked against epoll on each prepare (see lease()).
  gint64 verifyUntilUs = 0;
  bool ready = false;
  bool stale = false;
};

ContextDriver::Lease::Lease(Cell* cell) : cell_(cell) {
  ++cell_->members;
  // The newcomer's sockets may reuse the descriptor numbers of sockets this cell just closed:
  // closing dropped them from epoll, yet the number looks registered. Re-check for a while.
  cell_->verifyUntilUs = g_get_monotonic_time() + kVerifyWindowUs;
}

ContextDriver::Lease::~Lease() {
  if (cell_) --cell_->members;
}

ContextDriver::Lease::Lease(Lease&& other) noexcept : cell_(std::exchange(other.cell_, nullptr)) {}

ContextDriver::Lease& ContextDriver::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    if (cell_) --cell_->members;
    cell_ = std::exchange(other.cell_, nullptr);
  }
  return *this;
}

GMainContext* ContextDriver::Lease::context() const {
  return cell_ ? cell_->context : nullptr;
}

void ContextDriver::Lease::touch() {
  if (cell_) cell_->driver->markStale(*cell_);
}

ContextDriver::ContextDriver(GMainContext* root, gint64 spinUs)
    : spinUs_(std::max<gint64>(0, spinUs)), root_(std::make_unique<Cell>()) {
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_ < 0) throw Error(Errc::Io, std::string("epoll_create1: ") + std::strerror(errno));
  root_->driver = this;
  root_->context = root;
  root_->root = true;
}

ContextDriver::~ContextDriver() {
  for (auto& cell : cells_) {
    g_main_context_release(cell->context);
    g_main_context_unref(cell->context);
  }
  close(epoll_);
}

ContextDriver::Lease ContextDriver::lease() {
  for (std::size_t i = 0; i < cells_.size(); ++i) {
    std::size_t at = (nextFree_ + i) % cells_.size();
    if (cells_[at]->members < kConnectionsPerCell) {
      nextFree_ = at;
      return Lease(cells_[at].get());
    }
  }
  auto cell = std::make_unique<Cell>();
  cell->driver = this;
  cell->context = g_main_context_new_with_flags(G_MAIN_CONTEXT_FLAGS_NONE);
  // This thread alone runs it; as its owner, this thread's source changes signal no wakeup.
  g_main_context_acquire(cell->context);
  Cell* raw = cell.get();
  cells_.push_back(std::move(cell));
  nextFree_ = cells_.size() - 1;
  prepare(*raw);  // registers its wakeup descriptor
  return Lease(raw);
}

void ContextDriver::prepare(Cell& cell) {
  g_main_context_prepare(cell.context, &cell.maxPriority);
  gint timeout = -1;
  for (;;) {
    gint capacity = static_cast<gint>(cell.fds.size());
    cell.nfds =
        g_main_context_query(cell.context, cell.maxPriority, &timeout, cell.fds.data(), capacity);
    if (cell.nfds <= capacity) break;
    cell.fds.resize(static_cast<std::size_t>(cell.nfds));
  }
  for (gint i = 0; i < cell.nfds; ++i) cell.fds[i].revents = 0;
  cell.deadlineUs = timeout < 0 ? -1 : g_get_monotonic_time() + gint64{timeout} * 1000;
  ++cell.generation;
  if (!cell.root && cell.deadlineUs >= 0) {
    deadlines_.push({cell.deadlineUs, &cell, cell.generation});
    // Replaced entries leave the heap only when they reach its top; keep it near one per cell.
    if (deadlines_.size() > 4 * cells_.size() + 64) rebuildDeadlines();
  }
  registerDescriptors(cell);
}

void ContextDriver::registerDescriptors(Cell& cell) {
  std::vector<std::pair<int, std::uint32_t>> want;
  want.reserve(static_cast<std::size_t>(cell.nfds));
  for (gint i = 0; i < cell.nfds; ++i) {
    int fd = cell.fds[i].fd;
    if (fd < 0) continue;
    // GIOCondition and epoll share poll(2)'s bit values on Linux.
    auto events = static_cast<std::uint32_t>(cell.fds[i].events) & (EPOLLIN | EPOLLPRI | EPOLLOUT);
    auto it = std::find_if(want.begin(), want.end(), [fd](auto& w) { return w.first == fd; });
    if (it != want.end())
      it->second |= events;
    else
      want.emplace_back(fd, events);
  }
  std::sort(want.begin(), want.end());
  bool verify = g_get_monotonic_time() < cell.verifyUntilUs;
  if (!verify && want == cell.registered) return;  // the common case: nothing changed
  auto have = cell.registered.begin();
  for (auto& [fd, events] : want) {
    while (have != cell.registered.end() && have->first < fd) unregister((have++)->first, cell);
    bool known = have != cell.registered.end() && have->first == fd;
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    auto owner = owner_.find(fd);
    if (known && owner != owner_.end() && owner->second == &cell) {
      // ENOENT: the number was closed and reopened since we added it; add the new file.
      if ((verify || have->second != events) && epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &ev) != 0 &&
          errno == ENOENT)
        epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
    } else if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST) {
      epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &ev);  // a reused descriptor number
    }
    owner_[fd] = &cell;
    if (known) ++have;
  }
  while (have != cell.registered.end()) unregister((have++)->first, cell);
  cell.registered = std::move(want);
}

void ContextDriver::unregister(int fd, Cell& cell) {
  auto owner = owner_.find(fd);
  if (owner == owner_.end() || owner->second != &cell) return;  // now another cell's descriptor
  epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);  // fails harmlessly if already closed
  owner_.erase(owner);
}

void ContextDriver::dispatch(Cell& cell) {
  if (g_main_context_check(cell.context, cell.maxPriority, cell.fds.data(), cell.nfds))
    g_main_context_dispatch(cell.context);
  cell.ready = false;
  markStale(cell);
}

void ContextDriver::markStale(Cell& cell) {
  if (!cell.root && !cell.stale) {
    cell.stale = true;
    stale_.push_back(&cell);
  }
}

gint64 ContextDriver::earliestCellDeadline() {
  while (!deadlines_.empty()) {
    const Deadline& top = deadlines_.top();
    if (top.generation == top.cell->generation) return top.us;
    deadlines_.pop();
  }
  return -1;
}

void ContextDriver::rebuildDeadlines() {
  std::vector<Deadline> live;
  live.reserve(cells_.size());
  for (auto& cell : cells_)
    if (cell->deadlineUs >= 0) live.push_back({cell->deadlineUs, cell.get(), cell->generation});
  deadlines_ = decltype(deadlines_)(std::greater<>(), std::move(live));
}

int ContextDriver::wait(epoll_event* events, int maxEvents, gint64 deadlineUs) {
  // Whole milliseconds until the deadline, rounded up (epoll's unit); -1: none.
  auto timeoutMs = [deadlineUs] {
    if (deadlineUs < 0) return -1;
    return static_cast<int>(
        std::max<gint64>(0, (deadlineUs - g_get_monotonic_time() + 999) / 1000));
  };
  int timeout = timeoutMs();
  if (timeout == 0 || spinUs_ == 0 || !lastRoundHadWork_)
    return epoll_wait(epoll_, events, maxEvents, timeout);
  gint64 until = g_get_monotonic_time() + spinUs_;
  if (deadlineUs >= 0) until = std::min(until, deadlineUs);
  do {
    int n = epoll_wait(epoll_, events, maxEvents, 0);
    if (n != 0) return n;
  } while (g_get_monotonic_time() < until);
  return epoll_wait(epoll_, events, maxEvents, timeoutMs());
}

void ContextDriver::iterate(gint64 wakeUs) {
  prepare(*root_);
  for (Cell* cell : stale_) {
    cell->stale = false;
    prepare(*cell);
  }
  stale_.clear();

  gint64 earliest = root_->deadlineUs;
  for (gint64 candidate : {wakeUs, earliestCellDeadline()})
    if (candidate >= 0 && (earliest < 0 || candidate < earliest)) earliest = candidate;

  constexpr int kMaxEvents = 512;
  epoll_event events[kMaxEvents];
  int n = wait(events, kMaxEvents, earliest);
  lastRoundHadWork_ = n > 0;
  ready_.clear();
  for (int i = 0; i < n; ++i) {
    int fd = events[i].data.fd;
    auto owner = owner_.find(fd);
    if (owner == owner_.end()) continue;
    Cell* cell = owner->second;
    for (gint j = 0; j < cell->nfds; ++j)
      if (cell->fds[j].fd == fd)
        cell->fds[j].revents = static_cast<gushort>(events[i].events & 0x1f);
    if (!cell->ready && !cell->root) {
      cell->ready = true;
      ready_.push_back(cell);
    }
  }
  gint64 now = g_get_monotonic_time();
  for (gint64 due = earliestCellDeadline(); due >= 0 && due <= now; due = earliestCellDeadline()) {
    Cell* cell = deadlines_.top().cell;
    deadlines_.pop();  // its next prepare, after dispatch, pushes the cell's new deadline
    if (!cell->ready) {
      cell->ready = true;
      ready_.push_back(cell);
    }
  }

  dispatch(*root_);  // tasks first: they are what other threads are waiting for
  for (Cell* cell : ready_) dispatch(*cell);
}

}  // namespace ifmesh::rtc
