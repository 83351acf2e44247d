#pragma once
// An agent's state store (AgentConfig::state) as its links and senders use it: what was stored
// when the agent started, handed out once per link; group commit at the end of the loop's
// current work; and who waits for a commit to be durable. With syncToDisk a commit is durable
// once WalSyncer has flushed it to the disk, else once it is written. Loop thread; the futures
// it hands out may be waited for on any thread.
//
// A flood can keep the loop inside one dispatch for a long time (the transport reads while
// datagrams keep coming), and posted work waits until it returns. So a commit that is overdue
// (kCommitAfter, or kCommitEvery writes) is made at the next consistent point instead
// (commitIfOverdue(): where a link's outbox and counters agree), and listeners hear of durable
// commits at the next safe point too (notify(): where no link is inside its session), not only
// from a posted task.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mesh/message_stamper.hpp"
#include "mesh/replay_guard.hpp"
#include "store/delivery_store.hpp"
#include "store/wal_syncer.hpp"

namespace ifmesh::detail {

class DurableState {
 public:
  // Hears when the writes it made (changed(this)) are committed, and when that commit is durable.
  class Listener {
   public:
    // Commit `commit` holds every write made so far (called from commit(); no writes here).
    virtual void committing(std::uint64_t commit) = 0;
    // Commits up to `commit` are durable.
    virtual void committed(std::uint64_t commit) = 0;

   protected:
    ~Listener() = default;
  };

  // scheduleCommit: runs commit() on the loop after the work at hand. post: runs a task on the
  // loop (from the syncer's thread). Throws Error(Io) when the store cannot be opened.
  DurableState(const std::string& directory, bool syncToDisk, std::function<void()> scheduleCommit,
               std::function<void(std::function<void()>)> post);
  ~DurableState();

  store::DeliveryStore& store() { return store_; }
  // Hands the stored end-to-end sequence numbers to `stamper` and the replay window to `guard`,
  // and keeps the window stored as it changes from now on.
  void restore(MessageStamper& stamper, ReplayGuard& guard);
  std::uint64_t incarnation(std::uint64_t fresh) { return store_.incarnation(fresh); }

  // What the store held for a link when the agent started; each is handed out once.
  store::LinkState takeLink(const std::string& peer);
  std::vector<store::OutboxEntry> takeOutbox(const std::string& peer);
  // Peers the store held messages or counters for when the agent started.
  std::vector<std::string> storedPeers() const { return storedPeers_; }

  static constexpr std::chrono::milliseconds kCommitAfter{2};
  static constexpr std::size_t kCommitEvery = 512;

  // A write was made: a commit follows soon; `listener` (may be null) hears when it is durable.
  // Never commits, never calls a listener.
  void changed(Listener* listener = nullptr);
  // Commits now when the commit scheduled has waited too long (the loop is busy).
  void commitIfOverdue();
  // Tells the listeners of the commits that became durable (a safe point: no link is inside its
  // session).
  void notify();
  void forget(Listener* listener);
  // A future of the writes made so far being durable (Error(Io) when the commit fails); asks for
  // the commit when none is due.
  std::shared_future<void> pendingCommitDone();
  // As pendingCommitDone, told to `done` instead (loop thread, once: null when durable).
  void whenDurable(std::function<void(std::exception_ptr)> done);
  // Writes what changed; with `wait` also waits for the disk (at shutdown). Throws Error(Io).
  void commit(bool wait = false);

  std::uint64_t commits() const { return store_.commits(); }
  std::uint64_t syncs() const { return syncer_ ? syncer_->syncs() : 0; }

 private:
  void durable(std::uint64_t commit);  // loop thread
  void failed(const std::string& error);

  store::DeliveryStore store_;
  std::function<void()> scheduleCommit_;
  std::function<void(std::function<void()>)> post_;
  bool scheduled_ = false;
  std::chrono::steady_clock::time_point scheduledAt_;
  std::size_t writes_ = 0;                // since the last commit
  std::atomic<std::uint64_t> synced_{0};  // the last durable commit (set by any thread)
  std::map<std::string, store::LinkState> links_;
  std::map<std::string, std::vector<store::OutboxEntry>> outbox_;
  std::vector<std::string> storedPeers_;

  std::uint64_t written_ = 0, durable_ = 0;  // commits, loop thread's view
  std::set<Listener*> listeners_;            // for the next commit
  // Per written commit that is not durable yet: who waits for it.
  struct Waiting {
    std::set<Listener*> listeners;
    std::optional<std::promise<void>> done;
    std::vector<std::function<void(std::exception_ptr)>> told;
  };
  std::map<std::uint64_t, Waiting> waiting_;
  std::optional<std::promise<void>> next_;
  std::vector<std::function<void(std::exception_ptr)>> nextTold_;
  std::shared_future<void> nextDone_;
  std::set<Listener*> notifying_;

  std::unique_ptr<store::WalSyncer> syncer_;  // last: its thread stops first
};

}  // namespace ifmesh::detail
