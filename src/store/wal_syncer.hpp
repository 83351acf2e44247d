#pragma once
// Group commit's second half: makes the store's committed transactions survive power loss by
// fdatasync of its write-ahead log, on a thread of its own, so the agent's loop never waits for
// the disk. Every request covers all commits made before it; requests that arrive while a sync
// runs are served together by the next one.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace ifmesh::detail::store {

class WalSyncer {
 public:
  // synced(n, error): commits up to n reached the disk (error empty), or the sync failed. Runs
  // on the syncer's thread.
  using Synced = std::function<void(std::uint64_t commit, const std::string& error)>;
  // Throws Error(Io) when the log cannot be opened.
  WalSyncer(const std::string& walPath, Synced synced);
  ~WalSyncer();  // finishes the requests made so far
  WalSyncer(const WalSyncer&) = delete;
  WalSyncer& operator=(const WalSyncer&) = delete;

  // Commits up to `commit` are written (to the page cache): make them durable.
  void request(std::uint64_t commit);
  // Syncs on the calling thread (at shutdown); returns the error, empty on success.
  std::string syncNow();
  std::uint64_t syncs() const;

 private:
  void run();

  int fd_ = -1;
  Synced synced_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::uint64_t requested_ = 0, done_ = 0, syncs_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace ifmesh::detail::store
