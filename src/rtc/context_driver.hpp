#pragma once
// Drives many GMainContexts from one thread with epoll, touching only the ones with work.
//
// Why: g_main_context_iteration() prepares, polls and checks *every* source of a context on every
// iteration. With one libnice agent (a socket source plus timers) per connection end, a loop of a
// 100-agent mesh held ~5,000 sources, so each packet cost O(5,000) work and a poll() over 5,000
// descriptors. Here libnice agents live in small "cells" (a GMainContext each, a few connections
// per cell); one epoll set holds every cell's descriptors, and a cell is prepared, checked and
// dispatched only when one of its descriptors is ready, its timeout expires, or GLib wakes it.
//
// A cell's sources change only while its own agent's code runs: in the cell's dispatch (after
// which the cell is prepared again) or when we call into that agent (IceTransport then calls
// Lease::touch(), which has the cell prepared before the next wait). So cells are owned by the
// loop thread and not created with G_MAIN_CONTEXT_FLAGS_OWNERLESS_POLLING: with that flag GLib
// wrote the cell's wakeup eventfd on every source attach (libnice re-creates its timers all the
// time), ~2.6 write() calls and as many extra wake-ups per round trip in a 100-agent mesh. The
// wakeup descriptor stays in the epoll set for changes made from other threads. The root context
// (tasks and our own timers) is prepared and checked every round like an ordinary GLib loop.
#include <glib.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <unordered_map>
#include <vector>

struct epoll_event;

namespace ifmesh::rtc {

class ContextDriver {
 public:
  struct Cell;
  // A share of a cell for one connection's libnice agent; releases the share when destroyed.
  class Lease {
   public:
    Lease() = default;
    explicit Lease(Cell* cell);
    ~Lease();
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    GMainContext* context() const;
    // Says that the caller changed (or may have changed) the cell's sources outside its dispatch,
    // e.g. by calling into its libnice agent: the cell is prepared again before the next wait.
    // Loop thread only.
    void touch();

   private:
    Cell* cell_ = nullptr;
  };

  // `root` must be acquired by the thread that calls run(). `spinUs` is how long a round that
  // follows one with work polls without sleeping before it blocks (0: never).
  explicit ContextDriver(GMainContext* root, gint64 spinUs = 0);
  ~ContextDriver();
  ContextDriver(const ContextDriver&) = delete;
  ContextDriver& operator=(const ContextDriver&) = delete;

  // A context for one more connection, shared with at most kConnectionsPerCell - 1 others.
  // Loop thread only.
  Lease lease();
  // One round: prepare what changed, wait in epoll (at most until the earliest timeout or
  // `wakeUs`, a monotonic time; -1 for none), then check and dispatch every context with work.
  // After a round with work the wait first polls for up to the spin budget: a thread that goes
  // to sleep is woken by an inter-processor interrupt, which on a virtual machine costs tens of
  // microseconds per wake-up, and a reply often comes back within that time. Loop thread only.
  void iterate(gint64 wakeUs = -1);
  std::size_t cellCount() const { return cells_.size(); }

  // A ready cell's prepare and check visit all its sources, so small cells are cheaper per
  // packet; each cell costs an eventfd, and a 100-agent mesh must fit 20,000 descriptors
  // (9,900 sockets). mesh100 all-pairs echo, one run each: 2 per cell 9.0k round trips/s,
  // 4: 8.2k, 8: ~7k, 16: 6.6k.
  static constexpr std::size_t kConnectionsPerCell = 2;

 private:
  void prepare(Cell& cell);
  void registerDescriptors(Cell& cell);
  void unregister(int fd, Cell& cell);
  void dispatch(Cell& cell);
  void markStale(Cell& cell);
  // The earliest deadline of any cell, dropping heap entries that a later prepare replaced.
  gint64 earliestCellDeadline();
  void rebuildDeadlines();

  // A cell's deadline as of one prepare; `generation` tells whether it is still the cell's.
  struct Deadline {
    gint64 us;
    Cell* cell;
    std::uint64_t generation;
    bool operator>(const Deadline& other) const { return us > other.us; }
  };

  // Waits for descriptors until `deadlineUs` (monotonic; -1: none), polling first when spinning.
  int wait(epoll_event* events, int maxEvents, gint64 deadlineUs);

  int epoll_ = -1;
  gint64 spinUs_ = 0;
  bool lastRoundHadWork_ = false;
  std::unique_ptr<Cell> root_;
  std::vector<std::unique_ptr<Cell>> cells_;
  std::unordered_map<int, Cell*> owner_;  // registered descriptor -> its cell
  std::vector<Cell*> stale_;              // cells to prepare again before the next wait
  std::vector<Cell*> ready_;              // this round's cells with work (kept: no allocation)
  // Cells' timeouts, earliest first: a round looks at the cells whose time has come instead of
  // scanning all of them (2,475 per I/O thread in a 100-agent mesh) twice.
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
  std::size_t nextFree_ = 0;  // where lease() starts looking for room
};

}  // namespace ifmesh::rtc
