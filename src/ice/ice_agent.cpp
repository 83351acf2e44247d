#include "ice/ice_agent.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace ifmesh::ice {

IceAgent::IceAgent(IceAgentConfig config)
    : config_(std::move(config)),
      checkList_(config_.role, config_.nomination, config_.maxPairs),
      reportedRole_(config_.role) {
  if (!config_.random01 || !config_.transactionId)
    throw std::invalid_argument("IceAgent needs a random source and a transaction id generator");
}

bool IceAgent::knowsRemote(const StunAddress& address) const {
  const auto& remotes = checkList_.remotes();
  return std::any_of(remotes.begin(), remotes.end(),
                     [&](const Candidate& c) { return c.address == address; });
}

bool IceAgent::knowsLocal(const StunAddress& address) const {
  const auto& locals = checkList_.locals();
  return std::any_of(locals.begin(), locals.end(),
                     [&](const Candidate& c) { return c.address == address; });
}

bool IceAgent::isLocalBase(const StunAddress& address) const {
  // Where CheckList::onRequest looks for the local candidate of an incoming check.
  const auto& locals = checkList_.locals();
  return std::any_of(locals.begin(), locals.end(), [&](const Candidate& c) {
    return c.type != CandidateType::ServerReflexive && c.address == address;
  });
}

bool IceAgent::addLocal(const Candidate& candidate) {
  const auto& locals = checkList_.locals();
  const bool known = std::any_of(locals.begin(), locals.end(), [&](const Candidate& c) {
    return c.address == candidate.address && c.base == candidate.base;
  });
  if (!known && locals.size() >= config_.maxLocalCandidates) {
    ++refused_;
    return false;
  }
  checkList_.addLocal(candidate);
  idle_ = false;
  return true;
}

bool IceAgent::addRemote(const Candidate& candidate) {
  if (!knowsRemote(candidate.address) &&
      checkList_.remotes().size() >= config_.maxRemoteCandidates) {
    ++refused_;
    return false;
  }
  checkList_.addRemote(candidate);
  idle_ = false;
  return true;
}

void IceAgent::remoteCandidatesComplete() {
  checkList_.remoteCandidatesComplete();
  // Should every pair have failed already, the next tick (due at once) reports it.
  idle_ = false;
}

void IceAgent::localCandidatesComplete() {
  checkList_.localCandidatesComplete();
  idle_ = false;
}

void IceAgent::onStun(Clock::time_point now, const StunAddress& localBase,
                      const StunAddress& source, std::span<const std::uint8_t> datagram,
                      const ParsedStun& parsed) {
  if (parsed.message.method != stun_method::kBinding) return;
  switch (parsed.message.messageClass) {
    case StunClass::Request:
      onRequest(now, localBase, source, datagram, parsed);
      break;
    case StunClass::Success:
    case StunClass::Error:
      onResponse(now, localBase, source, datagram, parsed);
      break;
    case StunClass::Indication:
      break;  // keepalives (RFC 8445 11): nothing to do
  }
}

void IceAgent::onRequest(Clock::time_point now, const StunAddress& localBase,
                         const StunAddress& source, std::span<const std::uint8_t> datagram,
                         const ParsedStun& parsed) {
  BindingAnswer answer = answerBindingRequest(datagram, parsed, config_.credentials, role(),
                                              config_.tieBreaker, source);
  if (!answer.accepted) {
    // An error the peer can act on (401, 400, 487), or nothing; no state changes either way.
    if (!answer.response.empty())
      transmits_.push_back({localBase, source, std::move(answer.response)});
    return;
  }
  // A check must land in the checklist for its answer to mean anything: the peer takes a
  // success (with USE-CANDIDATE, a nomination) for a pair this end knows. One at an address that
  // is no base of ours, or from a new address beyond the candidate limit, goes unanswered.
  if (!isLocalBase(localBase)) return;
  if (!knowsRemote(source) && checkList_.remotes().size() >= config_.maxRemoteCandidates) {
    ++refused_;
    return;
  }
  if (answer.switchRoleTo) checkList_.setRole(*answer.switchRoleTo);
  checkList_.onRequest(localBase, source, answer.priority, answer.useCandidate);
  transmits_.push_back({localBase, source, std::move(answer.response)});
  idle_ = false;
  update(now);
}

void IceAgent::onResponse(Clock::time_point now, const StunAddress& localBase,
                          const StunAddress& source, std::span<const std::uint8_t> datagram,
                          const ParsedStun& parsed) {
  auto it = std::find_if(inFlight_.begin(), inFlight_.end(), [&](const InFlight& f) {
    return f.check.transactionId() == parsed.message.transactionId;
  });
  if (it == inFlight_.end()) return;
  // RFC 8445 7.2.5.2.1: a response from elsewhere than the request went, or arriving at
  // another base, is not the answer to it.
  if (it->to != source || it->from != localBase) return;
  if (!it->check.onResponse(datagram, parsed)) return;  // forged or not a response to it
  InFlight done = std::move(*it);
  inFlight_.erase(it);
  finish(now, std::move(done));
  update(now);
}

void IceAgent::send(Clock::time_point now, std::optional<std::size_t> pair, bool nominate,
                    const StunAddress& from, const StunAddress& to, std::uint32_t priority) {
  InFlight f{BindingCheck(config_.credentials, role(), config_.tieBreaker, priority, nominate,
                          config_.transactionId(), config_.retransmit),
             pair,
             nominate,
             role(),
             from,
             to};
  f.check.start(now);
  transmits_.push_back({from, to, f.check.request()});
  emit<TransactionStarted>(f.check.transactionId());
  inFlight_.push_back(std::move(f));
}

void IceAgent::startNextCheck(Clock::time_point now) {
  if (state_ != IceAgentState::Checking && state_ != IceAgentState::Connected) return;
  if (idle_ || now < nextCheckAt_ || checksInFlight() >= config_.maxChecksInFlight) return;
  auto next = checkList_.nextCheck();
  if (!next) {
    idle_ = true;
    return;
  }
  const CandidatePair& p = checkList_.pairs()[next->pair];
  const Candidate& local = checkList_.locals()[p.local];
  send(now, next->pair, next->nominate, local.base, checkList_.remotes()[p.remote].address,
       peerReflexivePriority(local));
  nextCheckAt_ = now + config_.ta;
}

void IceAgent::sendConsentRequest(Clock::time_point now) {
  // One consent request at a time: a new one replaces the last if it is still unanswered.
  auto old =
      std::find_if(inFlight_.begin(), inFlight_.end(), [](const InFlight& f) { return !f.pair; });
  if (old != inFlight_.end()) {
    emit<TransactionEnded>(old->check.transactionId());
    inFlight_.erase(old);
  }
  const CandidatePair& p = checkList_.pairs()[*checkList_.selected()];
  const Candidate& local = checkList_.locals()[p.local];
  send(now, std::nullopt, false, local.base, checkList_.remotes()[p.remote].address,
       peerReflexivePriority(local));
  consent_->requestSent(now);
}

void IceAgent::finish(Clock::time_point now, InFlight done) {
  emit<TransactionEnded>(done.check.transactionId());
  const CheckOutcome& outcome = *done.check.outcome();
  if (!done.pair) {
    // Consent (RFC 7675): only an authenticated success renews it.
    if (consent_ && std::holds_alternative<CheckSucceeded>(outcome)) consent_->renewed(now);
    return;
  }
  idle_ = false;
  const std::size_t pair = *done.pair;
  if (const auto* ok = std::get_if<CheckSucceeded>(&outcome)) {
    // A success through an address this end does not know teaches a peer-reflexive local
    // candidate; beyond the limit it counts as a failure.
    if (!knowsLocal(ok->mapped) && checkList_.locals().size() >= config_.maxLocalCandidates) {
      ++refused_;
      checkList_.checkFailed(pair);
    } else {
      checkList_.checkSucceeded(pair, ok->mapped, done.nominate);
    }
  } else if (std::holds_alternative<CheckRoleConflict>(outcome)) {
    // RFC 8445 7.2.5.1: switch roles only when still in the role the request claimed; a
    // request of the peer's may have switched it already. Either way the pair is checked again.
    const IceRole current = role();
    checkList_.checkRoleConflict(pair);
    if (done.role != current) checkList_.setRole(current);
  } else {
    checkList_.checkFailed(pair);
  }
}

void IceAgent::abandonAll() {
  for (const auto& f : inFlight_) emit<TransactionEnded>(f.check.transactionId());
  inFlight_.clear();
}

void IceAgent::update(Clock::time_point now) {
  if (role() != reportedRole_) {
    reportedRole_ = role();
    emit<RoleSwitched>(reportedRole_);
  }
  if (state_ == IceAgentState::Disconnected || state_ == IceAgentState::Failed) return;
  const auto selected = checkList_.selected();
  if (selected && selected != reportedSelection_) {
    reportedSelection_ = selected;
    emit<PairSelected>(*selectedPair());
    if (!consent_) consent_.emplace(now, config_.consent, config_.random01);
    state_ = IceAgentState::Connected;
    nominationAt_.reset();
  }
  if (state_ == IceAgentState::Checking && checkList_.state() == CheckListState::Failed) {
    state_ = IceAgentState::Failed;
    nominationAt_.reset();
    abandonAll();
    emit<IceFailed>("every candidate pair failed");
    return;
  }
  // Regular nomination's timer starts with the first valid pair.
  if (state_ == IceAgentState::Checking && !nominationAt_ && role() == IceRole::Controlling &&
      config_.nomination == CheckList::Nomination::Regular) {
    const auto& pairs = checkList_.pairs();
    if (std::any_of(pairs.begin(), pairs.end(), [](const CandidatePair& p) { return p.valid; }))
      nominationAt_ = now + config_.nominationWait;
  }
}

void IceAgent::tick(Clock::time_point now) {
  if (state_ == IceAgentState::Disconnected) return;
  // Retransmissions and timeouts.
  std::vector<InFlight> done;
  for (auto it = inFlight_.begin(); it != inFlight_.end();) {
    if (it->check.poll(now)) transmits_.push_back({it->from, it->to, it->check.request()});
    if (it->check.outcome()) {
      done.push_back(std::move(*it));
      it = inFlight_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& f : done) finish(now, std::move(f));
  update(now);

  if (consent_ && state_ == IceAgentState::Connected) {
    if (consent_->expired(now)) {
      state_ = IceAgentState::Disconnected;
      abandonAll();
      emit<ConsentLost>();
      return;
    }
    if (now >= consent_->nextRequest()) sendConsentRequest(now);
  }

  if (nominationAt_ && now >= *nominationAt_) {
    nominationAt_.reset();
    if (state_ == IceAgentState::Checking && checkList_.nominateBestValid()) {
      idle_ = false;
      nominationAt_ = now + config_.nominationWait;  // again, should that check fail
    }
  }

  startNextCheck(now);
  update(now);
}

std::vector<IceTransmit> IceAgent::takeTransmits() {
  return std::exchange(transmits_, {});
}

std::vector<IceEvent> IceAgent::takeEvents() {
  return std::exchange(events_, {});
}

std::optional<Clock::time_point> IceAgent::nextDeadline() const {
  std::optional<Clock::time_point> next;
  auto consider = [&](Clock::time_point t) {
    if (!next || t < *next) next = t;
  };
  if (state_ == IceAgentState::Disconnected) return std::nullopt;
  for (const auto& f : inFlight_)
    if (auto d = f.check.nextDeadline()) consider(*d);
  if (nominationAt_) consider(*nominationAt_);
  if (consent_ && state_ == IceAgentState::Connected) consider(consent_->nextDeadline());
  const bool mayCheck = state_ == IceAgentState::Checking || state_ == IceAgentState::Connected;
  // The next paced check, while the checklist may have one (a failed checklist: the tick that
  // reports it).
  if (mayCheck && !idle_ && checksInFlight() < config_.maxChecksInFlight) consider(nextCheckAt_);
  return next;
}

std::optional<IceSelectedPair> IceAgent::selectedPair() const {
  if (!reportedSelection_) return std::nullopt;
  const CandidatePair& p = checkList_.pairs()[*reportedSelection_];
  const Candidate& local = checkList_.locals()[p.local];
  return IceSelectedPair{local.base, local.address, checkList_.remotes()[p.remote].address};
}

std::optional<Clock::time_point> IceAgent::consentExpiresAt() const {
  if (!consent_) return std::nullopt;
  return consent_->expiresAt();
}

std::size_t IceAgent::checksInFlight() const {
  return static_cast<std::size_t>(
      std::count_if(inFlight_.begin(), inFlight_.end(), [](const InFlight& f) { return f.pair; }));
}

}  // namespace ifmesh::ice
