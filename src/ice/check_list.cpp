#include "ice/check_list.hpp"

#include <algorithm>

namespace ifmesh::ice {

std::uint32_t typePreference(CandidateType type) {
  switch (type) {
    case CandidateType::Host:
      return 126;
    case CandidateType::PeerReflexive:
      return 110;
    case CandidateType::ServerReflexive:
      return 100;
    case CandidateType::Relayed:
      return 0;
  }
  return 0;
}

std::uint32_t candidatePriority(CandidateType type, std::uint16_t localPreference, int component) {
  return (typePreference(type) << 24) + (std::uint32_t{localPreference} << 8) +
         static_cast<std::uint32_t>(256 - component);
}

std::uint64_t pairPriority(std::uint32_t controlling, std::uint32_t controlled) {
  const std::uint64_t g = controlling, d = controlled;
  return (std::min(g, d) << 32) + 2 * std::max(g, d) + (g > d ? 1 : 0);
}

std::uint32_t peerReflexivePriority(const Candidate& local) {
  // The base's local preference, with the peer-reflexive type preference (7.2.2).
  return candidatePriority(CandidateType::PeerReflexive,
                           static_cast<std::uint16_t>((local.priority >> 8) & 0xffff),
                           static_cast<int>(256 - (local.priority & 0xff)));
}

CheckList::CheckList(IceRole role, Nomination nomination, std::size_t maxPairs)
    : role_(role), nomination_(nomination), maxPairs_(maxPairs) {}

std::string CheckList::foundationOf(const CandidatePair& pair) const {
  return locals_[pair.local].foundation + ":" + remotes_[pair.remote].foundation;
}

std::uint64_t CheckList::priorityOf(const CandidatePair& pair) const {
  const std::uint32_t local = locals_[pair.local].priority, remote = remotes_[pair.remote].priority;
  return role_ == IceRole::Controlling ? pairPriority(local, remote) : pairPriority(remote, local);
}

void CheckList::setRole(IceRole role) {
  role_ = role;
  for (auto& p : pairs_) p.priority = priorityOf(p);
}

void CheckList::addLocal(const Candidate& candidate) {
  for (const auto& l : locals_)
    if (l.address == candidate.address && l.base == candidate.base) return;
  locals_.push_back(candidate);
  // Checks leave from a base: a server-reflexive candidate's pairs are its base's (6.1.2.4).
  if (candidate.type == CandidateType::ServerReflexive) return;
  for (std::size_t r = 0; r < remotes_.size(); ++r) pairUp(locals_.size() - 1, r);
  prune();
}

void CheckList::addRemote(const Candidate& candidate) {
  if (auto known = findRemote(candidate.address)) {
    // A peer-reflexive candidate learnt from a check, now signalled: it takes the signalled
    // type, priority and foundation (RFC 8838 section 11).
    auto& r = remotes_[*known];
    if (r.type != CandidateType::PeerReflexive) return;
    r = candidate;
    for (auto& p : pairs_)
      if (p.remote == *known) p.priority = priorityOf(p);
    return;
  }
  remotes_.push_back(candidate);
  for (std::size_t l = 0; l < locals_.size(); ++l)
    if (locals_[l].type != CandidateType::ServerReflexive) pairUp(l, remotes_.size() - 1);
  prune();
}

void CheckList::remoteCandidatesComplete() {
  remoteComplete_ = true;
  updateState();
}

void CheckList::localCandidatesComplete() {
  localComplete_ = true;
  updateState();
}

void CheckList::pairUp(std::size_t local, std::size_t remote) {
  if (state_ != CheckListState::Running) return;
  if (locals_[local].address.ipv6 != remotes_[remote].address.ipv6) return;
  if (findPair(local, remote)) return;
  CandidatePair p;
  p.local = local;
  p.remote = remote;
  p.priority = priorityOf(p);
  // One pair per foundation is checked at a time; the others wait, frozen, for its outcome.
  p.state = foundationActive(foundationOf(p)) ? PairState::Frozen : PairState::Waiting;
  pairs_.push_back(p);
  pruned_.push_back(false);
  nominateOnSuccess_.push_back(false);
}

std::optional<std::size_t> CheckList::findPair(std::size_t local, std::size_t remote) const {
  for (std::size_t i = 0; i < pairs_.size(); ++i)
    if (pairs_[i].local == local && pairs_[i].remote == remote) return i;
  return std::nullopt;
}

std::optional<std::size_t> CheckList::findLocal(const StunAddress& address) const {
  for (std::size_t i = 0; i < locals_.size(); ++i)
    if (locals_[i].address == address) return i;
  return std::nullopt;
}

std::optional<std::size_t> CheckList::findRemote(const StunAddress& address) const {
  for (std::size_t i = 0; i < remotes_.size(); ++i)
    if (remotes_[i].address == address) return i;
  return std::nullopt;
}

bool CheckList::foundationActive(const std::string& foundation) const {
  for (std::size_t i = 0; i < pairs_.size(); ++i)
    if (!pruned_[i] &&
        (pairs_[i].state == PairState::Waiting || pairs_[i].state == PairState::InProgress) &&
        foundationOf(pairs_[i]) == foundation)
      return true;
  return false;
}

void CheckList::unfreeze(const std::string& foundation) {
  for (std::size_t i = 0; i < pairs_.size(); ++i)
    if (pairs_[i].state == PairState::Frozen && foundationOf(pairs_[i]) == foundation)
      pairs_[i].state = PairState::Waiting;
}

void CheckList::trigger(std::size_t pair) {
  if (pairs_[pair].state != PairState::InProgress) pairs_[pair].state = PairState::Waiting;
  if (std::find(triggered_.begin(), triggered_.end(), pair) == triggered_.end())
    triggered_.push_back(pair);
}

void CheckList::prune() {
  std::vector<std::size_t> live;
  for (std::size_t i = 0; i < pairs_.size(); ++i)
    if (!pruned_[i]) live.push_back(i);
  if (live.size() <= maxPairs_) return;
  // The lowest-priority pairs that are not being or have not been checked go first (6.1.2.5).
  std::sort(live.begin(), live.end(),
            [&](std::size_t a, std::size_t b) { return pairs_[a].priority < pairs_[b].priority; });
  std::size_t excess = live.size() - maxPairs_;
  for (std::size_t i : live) {
    if (excess == 0) break;
    if (pairs_[i].state == PairState::Frozen || pairs_[i].state == PairState::Waiting) {
      pruned_[i] = true;
      --excess;
    }
  }
}

std::optional<NextCheck> CheckList::nextCheck() {
  if (state_ != CheckListState::Running) return std::nullopt;
  auto start = [&](std::size_t i) {
    pairs_[i].state = PairState::InProgress;
    const bool nominate = role_ == IceRole::Controlling &&
                          (nomination_ == Nomination::Aggressive || nominating_ == i);
    return NextCheck{i, nominate};
  };
  while (!triggered_.empty()) {
    std::size_t i = triggered_.front();
    triggered_.pop_front();
    if (pruned_[i] || pairs_[i].state == PairState::InProgress) continue;
    if (pairs_[i].state == PairState::Succeeded && nominating_ != i) continue;
    return start(i);
  }
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < pairs_.size(); ++i)
    if (!pruned_[i] && pairs_[i].state == PairState::Waiting &&
        (!best || pairs_[i].priority > pairs_[*best].priority))
      best = i;
  if (!best) {
    // Nothing waiting: the best frozen pair of a foundation nobody checks (6.1.4.2).
    for (std::size_t i = 0; i < pairs_.size(); ++i)
      if (!pruned_[i] && pairs_[i].state == PairState::Frozen &&
          !foundationActive(foundationOf(pairs_[i])) &&
          (!best || pairs_[i].priority > pairs_[*best].priority))
        best = i;
  }
  if (!best) return std::nullopt;
  return start(*best);
}

void CheckList::checkSucceeded(std::size_t pair, const StunAddress& mapped, bool nominated) {
  if (pair >= pairs_.size()) return;
  pairs_[pair].state = PairState::Succeeded;
  const std::size_t remote = pairs_[pair].remote;
  // The valid pair: the local candidate the peer saw the check come from (7.2.5.3.1).
  auto local = findLocal(mapped);
  if (!local) {
    Candidate prflx;
    prflx.type = CandidateType::PeerReflexive;
    prflx.address = mapped;
    prflx.base = locals_[pairs_[pair].local].base;
    prflx.priority = peerReflexivePriority(locals_[pairs_[pair].local]);
    prflx.foundation = "prflx-local-" + std::to_string(++prflxFoundations_);
    locals_.push_back(prflx);
    local = locals_.size() - 1;
  }
  auto valid = findPair(*local, remote);
  if (!valid) {
    CandidatePair p;
    p.local = *local;
    p.remote = remote;
    p.priority = priorityOf(p);
    pairs_.push_back(p);
    pruned_.push_back(false);
    nominateOnSuccess_.push_back(false);
    valid = pairs_.size() - 1;
  }
  pairs_[*valid].state = PairState::Succeeded;
  pairs_[*valid].valid = true;
  unfreeze(foundationOf(pairs_[pair]));
  if (nominating_ == pair) nominating_.reset();
  const bool controlledNominated = role_ == IceRole::Controlled && nominateOnSuccess_[pair];
  if ((nominated && role_ == IceRole::Controlling) || controlledNominated) {
    nominate(*valid);
    return;
  }
  considerNominating();
  updateState();
}

void CheckList::checkRoleConflict(std::size_t pair) {
  if (pair >= pairs_.size()) return;
  setRole(role_ == IceRole::Controlling ? IceRole::Controlled : IceRole::Controlling);
  pairs_[pair].state = PairState::Waiting;
  trigger(pair);
}

void CheckList::checkFailed(std::size_t pair) {
  if (pair >= pairs_.size()) return;
  pairs_[pair].state = PairState::Failed;
  if (nominating_ == pair) nominating_.reset();
  considerNominating();
  updateState();
}

std::optional<std::size_t> CheckList::onRequest(const StunAddress& base, const StunAddress& source,
                                                std::uint32_t priority, bool useCandidate) {
  std::optional<std::size_t> local;
  for (std::size_t i = 0; i < locals_.size(); ++i)
    if (locals_[i].type != CandidateType::ServerReflexive && locals_[i].address == base) local = i;
  if (!local) return std::nullopt;
  auto remote = findRemote(source);
  if (!remote) {
    // A peer-reflexive remote candidate (7.3.1.3): the address the check came from.
    Candidate prflx;
    prflx.type = CandidateType::PeerReflexive;
    prflx.address = prflx.base = source;
    prflx.priority = priority;
    prflx.foundation = "prflx-remote-" + std::to_string(++prflxFoundations_);
    remotes_.push_back(prflx);
    remote = remotes_.size() - 1;
  }
  auto pair = findPair(*local, *remote);
  if (!pair) {
    if (state_ != CheckListState::Running) return std::nullopt;
    pairUp(*local, *remote);
    pair = findPair(*local, *remote);
    if (!pair) return std::nullopt;  // address families differ
  }
  pruned_[*pair] = false;
  auto& p = pairs_[*pair];
  const bool nominatedHere = useCandidate && role_ == IceRole::Controlled;
  if (p.state == PairState::Succeeded) {
    if (nominatedHere) nominate(*pair);
    return pair;
  }
  if (state_ != CheckListState::Running) return pair;
  if (nominatedHere) nominateOnSuccess_[*pair] = true;
  // Triggered check (7.3.1.4): the peer can reach us here, so we check the way back soon.
  if (p.state != PairState::InProgress) trigger(*pair);
  updateState();
  return pair;
}

void CheckList::considerNominating() {
  if (role_ != IceRole::Controlling || nomination_ != Nomination::Regular || nominating_ ||
      state_ != CheckListState::Running)
    return;
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < pairs_.size(); ++i)
    if (pairs_[i].valid && (!best || pairs_[i].priority > pairs_[*best].priority)) best = i;
  if (!best) return;
  // Regular nomination waits while a better pair may still succeed.
  for (std::size_t i = 0; i < pairs_.size(); ++i)
    if (!pruned_[i] && pairs_[i].priority > pairs_[*best].priority &&
        (pairs_[i].state == PairState::Frozen || pairs_[i].state == PairState::Waiting ||
         pairs_[i].state == PairState::InProgress))
      return;
  nominateBestValid();
}

bool CheckList::nominateBestValid() {
  if (role_ != IceRole::Controlling || state_ != CheckListState::Running) return false;
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < pairs_.size(); ++i)
    if (pairs_[i].valid && (!best || pairs_[i].priority > pairs_[*best].priority)) best = i;
  if (!best) return false;
  nominating_ = best;
  triggered_.push_front(*best);
  return true;
}

void CheckList::nominate(std::size_t pair) {
  pairs_[pair].nominated = true;
  if (!selected_ || pairs_[pair].priority > pairs_[*selected_].priority) selected_ = pair;
  // ICE completed for this stream (8.1.2): what was not checked yet never will be.
  state_ = CheckListState::Completed;
  triggered_.clear();
  nominating_.reset();
  for (std::size_t i = 0; i < pairs_.size(); ++i)
    if (pairs_[i].state == PairState::Frozen || pairs_[i].state == PairState::Waiting)
      pruned_[i] = true;
}

void CheckList::updateState() {
  if (state_ != CheckListState::Running || !remoteComplete_ || !localComplete_) return;
  for (std::size_t i = 0; i < pairs_.size(); ++i)
    if (!pruned_[i] && pairs_[i].state != PairState::Failed) return;
  state_ = CheckListState::Failed;
}

}  // namespace ifmesh::ice
