#include "store/wal_syncer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ifmesh/error.hpp"

namespace ifmesh::detail::store {

WalSyncer::WalSyncer(const std::string& walPath, Synced synced) : synced_(std::move(synced)) {
  // An empty log is a valid one: SQLite creates it the same way.
  fd_ = ::open(walPath.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0)
    throw Error(Errc::Io,
                "cannot open the state store's log " + walPath + ": " + std::strerror(errno));
  thread_ = std::thread([this] { run(); });
}

WalSyncer::~WalSyncer() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  ::close(fd_);
}

void WalSyncer::request(std::uint64_t commit) {
  {
    std::lock_guard lock(mutex_);
    if (commit <= requested_) return;
    requested_ = commit;
  }
  wake_.notify_one();
}

std::string WalSyncer::syncNow() {
  if (::fdatasync(fd_) != 0) return std::string("fdatasync: ") + std::strerror(errno);
  std::lock_guard lock(mutex_);
  ++syncs_;
  return {};
}

std::uint64_t WalSyncer::syncs() const {
  std::lock_guard lock(mutex_);
  return syncs_;
}

void WalSyncer::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || requested_ > done_; });
    if (requested_ <= done_) return;  // stopping, and everything asked for is done
    const std::uint64_t upTo = requested_;
    lock.unlock();
    std::string error;
    if (::fdatasync(fd_) != 0) error = std::string("fdatasync: ") + std::strerror(errno);
    synced_(upTo, error);
    lock.lock();
    done_ = upTo;
    ++syncs_;
  }
}

}  // namespace ifmesh::detail::store
