#pragma once
// The ICE checklist of one data stream (RFC 8445 section 6.1.2, with trickle per RFC 8838),
// sans-IO: candidates, check outcomes and incoming checks in; which pair to check next, and
// the pair ICE selected, out. A DataChannel transport has one component, so this list has one.
// BindingCheck (binding_check.hpp) carries out the checks this list asks for; the caller paces
// them (one nextCheck() per Ta) and owns sockets and clocks.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ice/binding_check.hpp"
#include "ice/stun_message.hpp"
#include "lazy_deque.hpp"

namespace ifmesh::ice {

enum class CandidateType { Host, ServerReflexive, PeerReflexive, Relayed };

// RFC 8445 5.1.2.1's recommended type preferences.
std::uint32_t typePreference(CandidateType type);
// RFC 8445 5.1.2.1: 2^24 * type preference + 2^8 * local preference + (256 - component).
std::uint32_t candidatePriority(CandidateType type, std::uint16_t localPreference,
                                int component = 1);
// RFC 8445 6.1.2.3: 2^32 * min(G, D) + 2 * max(G, D) + (G > D ? 1 : 0), G the controlling
// agent's candidate's priority and D the controlled one's.
std::uint64_t pairPriority(std::uint32_t controlling, std::uint32_t controlled);

struct Candidate;
// The PRIORITY of a check from `local` (7.2.2): what a peer-reflexive candidate learnt from it
// gets, the base's local preference and component with the peer-reflexive type preference.
std::uint32_t peerReflexivePriority(const Candidate& local);

struct Candidate {
  CandidateType type = CandidateType::Host;
  StunAddress address;  // the transport address
  // Local candidates: where checks leave from (the host address a server-reflexive candidate
  // was learnt through, the relayed address of a relayed one, the address itself for a host).
  StunAddress base;
  std::uint32_t priority = 0;
  std::string foundation;
};

enum class PairState { Frozen, Waiting, InProgress, Succeeded, Failed };

struct CandidatePair {
  std::size_t local = 0, remote = 0;  // indices into locals() and remotes()
  std::uint64_t priority = 0;
  PairState state = PairState::Frozen;
  bool valid = false;      // a check on it succeeded, or one made it the valid pair (7.2.5.3.2)
  bool nominated = false;  // USE-CANDIDATE went over it and its check succeeded
};

// What to check next: a pair, and whether the check nominates it (controlling agent only).
struct NextCheck {
  std::size_t pair = 0;
  bool nominate = false;
};

enum class CheckListState { Running, Completed, Failed };

class CheckList {
 public:
  // Nomination by the controlling agent: Regular sends USE-CANDIDATE once a pair is valid, on
  // the best valid pair; Aggressive on every check (the first pair to succeed is selected).
  enum class Nomination { Regular, Aggressive };

  CheckList(IceRole role, Nomination nomination = Nomination::Regular, std::size_t maxPairs = 100);

  IceRole role() const { return role_; }
  // After a role conflict (a 487, or a request that won one): every pair's priority anew.
  void setRole(IceRole role);

  // Candidates as they are gathered or trickled in. A local server-reflexive candidate makes no
  // pairs of its own: its base (a host candidate) makes them (6.1.2.4). A remote candidate at an
  // address already known (a peer-reflexive one learnt from a check) takes its place.
  void addLocal(const Candidate& candidate);
  void addRemote(const Candidate& candidate);
  // The peer sent end-of-candidates, and this end's gathering ended: once both happened and
  // every pair failed, ICE has failed (RFC 8838 section 8: a candidate still to come, on either
  // side, may make the pair that works).
  void remoteCandidatesComplete();
  void localCandidatesComplete();

  const std::vector<Candidate>& locals() const { return locals_; }
  const std::vector<Candidate>& remotes() const { return remotes_; }
  const std::vector<CandidatePair>& pairs() const { return pairs_; }

  // The check to start now, once per Ta: a triggered one first, else the Waiting pair of
  // highest priority, else the best Frozen pair of a foundation not being checked. The pair is
  // then In-Progress. Nothing when there is nothing to check.
  std::optional<NextCheck> nextCheck();

  // A check's outcome. Success: `mapped` is where the peer saw it come from; the valid pair is
  // the pair of the local candidate at that address (a new peer-reflexive one if none) and the
  // checked pair's remote (7.2.5.3). A role conflict switches roles and checks the pair again.
  void checkSucceeded(std::size_t pair, const StunAddress& mapped, bool nominated);
  void checkRoleConflict(std::size_t pair);
  void checkFailed(std::size_t pair);

  // A Binding request the server side accepted (answerBindingRequest), arriving at local base
  // `base` from `source`, with its PRIORITY and USE-CANDIDATE: the remote may be a new
  // peer-reflexive candidate (7.3.1.3); the pair gets a triggered check unless it already
  // succeeded (7.3.1.4); a controlled agent marks it nominated (7.3.1.5). Returns the pair, or
  // nothing when no local candidate has that base.
  std::optional<std::size_t> onRequest(const StunAddress& base, const StunAddress& source,
                                       std::uint32_t priority, bool useCandidate);

  // Regular nomination, controlling agent: waits while a pair better than the best valid one
  // may still succeed. This nominates the best valid pair now (the caller's timer for a
  // slow better pair); false when there is none or this agent is not controlling.
  bool nominateBestValid();

  CheckListState state() const { return state_; }
  // The nominated pair of highest priority once ICE completed for the stream (8.1.2).
  std::optional<std::size_t> selected() const { return selected_; }

 private:
  std::string foundationOf(const CandidatePair& pair) const;
  std::uint64_t priorityOf(const CandidatePair& pair) const;
  void pairUp(std::size_t local, std::size_t remote);
  std::optional<std::size_t> findPair(std::size_t local, std::size_t remote) const;
  std::optional<std::size_t> findLocal(const StunAddress& address) const;
  std::optional<std::size_t> findRemote(const StunAddress& address) const;
  bool foundationActive(const std::string& foundation) const;
  void unfreeze(const std::string& foundation);
  void trigger(std::size_t pair);
  void nominate(std::size_t pair);
  void considerNominating();
  void prune();
  void updateState();

  IceRole role_;
  Nomination nomination_;
  std::size_t maxPairs_;
  std::vector<Candidate> locals_, remotes_;
  std::vector<CandidatePair> pairs_;
  std::vector<bool> pruned_;  // per pair: removed for the pair limit or after completion
  LazyDeque<std::size_t> triggered_;
  // Pairs the controlled agent saw USE-CANDIDATE on while their own check was in progress.
  std::vector<bool> nominateOnSuccess_;
  std::optional<std::size_t> nominating_;  // the valid pair a USE-CANDIDATE check is for
  bool remoteComplete_ = false;
  bool localComplete_ = false;
  std::uint32_t prflxFoundations_ = 0;
  CheckListState state_ = CheckListState::Running;
  std::optional<std::size_t> selected_;
};

}  // namespace ifmesh::ice
