#include "mesh/durable_state.hpp"

#include "ifmesh/error.hpp"

namespace ifmesh::detail {

DurableState::DurableState(const std::string& directory, bool syncToDisk,
                           std::function<void()> scheduleCommit,
                           std::function<void(std::function<void()>)> post)
    : store_(directory), scheduleCommit_(std::move(scheduleCommit)), post_(std::move(post)) {
  links_ = store_.links();
  for (auto& entry : store_.outbox()) outbox_[entry.peer].push_back(std::move(entry));
  std::set<std::string> peers;
  for (const auto& [peer, state] : links_) peers.insert(peer);
  for (const auto& [peer, entries] : outbox_) peers.insert(peer);
  storedPeers_.assign(peers.begin(), peers.end());
  if (syncToDisk)
    syncer_ = std::make_unique<store::WalSyncer>(
        store_.logPath(), [this](std::uint64_t commit, const std::string& error) {
          if (error.empty()) synced_.store(commit, std::memory_order_release);
          // The agent may be gone by the time the loop runs this: post_ checks.
          post_([this, error] {
            if (error.empty())
              notify();
            else
              failed(error);
          });
        });
}

DurableState::~DurableState() {
  syncer_.reset();  // its thread stops before the rest goes
}

store::LinkState DurableState::takeLink(const std::string& peer) {
  auto node = links_.extract(peer);
  return node ? node.mapped() : store::LinkState{};
}

std::vector<store::OutboxEntry> DurableState::takeOutbox(const std::string& peer) {
  auto node = outbox_.extract(peer);
  return node ? std::move(node.mapped()) : std::vector<store::OutboxEntry>{};
}

void DurableState::changed(Listener* listener) {
  if (listener) listeners_.insert(listener);
  ++writes_;
  if (scheduled_) return;
  scheduled_ = true;
  scheduledAt_ = std::chrono::steady_clock::now();
  scheduleCommit_();
}

void DurableState::commitIfOverdue() {
  // The posted commit has not run: the loop is busy. Commit now rather than let the batch grow
  // without bound (what waits for it is told at the next safe point).
  if (!scheduled_ ||
      (writes_ < kCommitEvery && std::chrono::steady_clock::now() - scheduledAt_ < kCommitAfter))
    return;
  try {
    commit();
  } catch (const Error&) {
    // Reported by failed(); the writes are not durable and nobody is told they are.
  }
}

void DurableState::notify() {
  const auto synced = synced_.load(std::memory_order_acquire);
  if (synced > durable_) durable(synced);
}

void DurableState::forget(Listener* listener) {
  listeners_.erase(listener);
  notifying_.erase(listener);
  for (auto& [commit, w] : waiting_) w.listeners.erase(listener);
}

std::shared_future<void> DurableState::pendingCommitDone() {
  changed();  // nothing may have been written: the future must still come true
  if (!next_) {
    next_.emplace();
    nextDone_ = next_->get_future().share();
  }
  return nextDone_;
}

void DurableState::whenDurable(std::function<void(std::exception_ptr)> done) {
  changed();
  nextTold_.push_back(std::move(done));
}

void DurableState::commit(bool wait) {
  scheduled_ = false;
  writes_ = 0;
  if (!store_.dirty() && listeners_.empty() && !next_ && nextTold_.empty()) return;
  try {
    store_.commit();
  } catch (const Error& e) {
    failed(e.what());
    throw;
  }
  const std::uint64_t commit = ++written_;
  for (auto* l : listeners_) l->committing(commit);
  waiting_[commit] = {std::exchange(listeners_, {}), std::exchange(next_, std::nullopt),
                      std::exchange(nextTold_, {})};
  if (!syncer_) {
    // Written is durable enough: told at the next safe point, never from inside a write.
    synced_.store(commit, std::memory_order_release);
    if (wait) return notify();
    return post_([this] { notify(); });
  }
  if (!wait) return syncer_->request(commit);
  if (auto error = syncer_->syncNow(); !error.empty()) {
    failed(error);
    throw Error(Errc::Io, "state store: " + error);
  }
  synced_.store(commit, std::memory_order_release);
  notify();
}

void DurableState::durable(std::uint64_t commit) {
  if (commit <= durable_) return;
  durable_ = commit;
  // A listener may write again (and wait for a later commit), or end another one (which then
  // forgets itself, also from notifying_).
  while (!waiting_.empty() && waiting_.begin()->first <= commit) {
    const std::uint64_t done = waiting_.begin()->first;
    auto w = std::move(waiting_.begin()->second);
    waiting_.erase(waiting_.begin());
    if (w.done) w.done->set_value();
    for (auto& fn : w.told) fn(nullptr);
    notifying_ = std::move(w.listeners);
    while (!notifying_.empty()) {
      auto* l = *notifying_.begin();
      notifying_.erase(notifying_.begin());
      l->committed(done);
    }
  }
}

void DurableState::failed(const std::string& error) {
  auto ex = std::make_exception_ptr(Error(Errc::Io, "state store: " + error));
  if (next_) next_->set_exception(ex);
  next_.reset();
  for (auto& fn : std::exchange(nextTold_, {})) fn(ex);
  auto waiting = std::exchange(waiting_, {});
  for (auto& [commit, w] : waiting) {
    if (w.done) w.done->set_exception(ex);
    for (auto& fn : w.told) fn(ex);
  }
}

void DurableState::restore(MessageStamper& stamper, ReplayGuard& guard) {
  for (const auto& [key, last] : store_.stamps()) stamper.resume(key.first, key.second, last);
  for (const auto& [source, s] : store_.replayWindow())
    guard.restore(source, {s.incarnation, s.newestMs, s.last});
  guard.observe([this](const std::string& source, const ReplayGuard::Source* s) {
    if (s)
      store_.setReplay(source, {s->incarnation, s->newestMs, s->last});
    else
      store_.forgetReplay(source);
    changed();
  });
}

}  // namespace ifmesh::detail
