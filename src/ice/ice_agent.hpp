#pragma once
// One connection's ICE agent: full ICE (RFC 8445) for one component, with trickled candidates
// (RFC 8838) and consent freshness (RFC 7675), sans-IO. It ties the pieces of src/ice together:
// CheckList decides what to check, BindingCheck carries out each check, answerBindingRequest
// answers the peer's checks, ConsentFreshness keeps the selected pair alive.
//
// The contract with the caller (the I/O thread that owns the shared UDP socket and the clock):
// * Inputs: candidates (addLocal, addRemote, localCandidatesComplete,
//   remoteCandidatesComplete), STUN messages the DatagramDemux routed to this connection
//   (onStun), and the passing of time (tick). Every input takes the current time where it needs
//   one; the agent reads no clock.
// * Outputs: after any input, the caller drains takeTransmits() (datagrams to send from a local
//   base to a remote address) and takeEvents(), and calls tick() again at nextDeadline(). The
//   queues grow only by what one input produces, so draining after each input bounds them.
// * Events: TransactionStarted / TransactionEnded bracket every request this agent has in
//   flight, so that the caller registers its transaction id with
//   DatagramDemux::expectResponse and forgets it after. PairSelected, IceFailed, ConsentLost and
//   RoleSwitched report the agent's progress.
// * Nothing here is thread-safe: one thread calls it, as one I/O thread owns a connection.
//
// Behaviour:
// * Checks start paced, at most one per Ta (triggered checks first, CheckList::nextCheck), and
//   at most maxChecksInFlight at once; each retransmits on RetransmitPolicy's schedule.
// * A response counts only when its transaction id is one in flight, it came from the address
//   the request went to, at the base it left from (RFC 8445 7.2.5.2.1), and its
//   MESSAGE-INTEGRITY is the peer's: anything else is dropped and changes nothing.
// * A controlling agent with regular nomination nominates as soon as no better pair is pending;
//   `nominationWait` after the first valid pair it nominates the best valid one regardless (and
//   again every nominationWait while nothing is selected), so that a slow pair cannot hold up
//   the connection.
// * Once a pair is selected, consent requests go over it every consent interval (a new
//   transaction replaces one still unanswered); consent lost after the timeout is final
//   (state Disconnected): the caller must stop sending on the pair.
// * The peer's checks are answered in every state, even after completion or failure: the peer
//   may still be checking, and its consent requests need answers.
//
// Bounds (hostile input: a peer trickling thousands of candidates or sending checks from
// thousands of addresses): at most maxLocalCandidates local candidates (peer-reflexive ones
// learnt from responses included: a success that would teach one more counts as a failure), at
// most maxRemoteCandidates remote ones (peer-reflexive ones included: a request from a new
// address once the limit is reached is dropped unanswered), so at most their product in pairs,
// of which CheckList keeps at most maxPairs live; at most maxChecksInFlight checks plus one
// consent request in flight.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "ice/binding_check.hpp"
#include "ice/check_list.hpp"
#include "ice/consent_freshness.hpp"
#include "ice/stun_message.hpp"

namespace ifmesh::ice {

struct IceAgentConfig {
  IceRole role = IceRole::Controlling;
  CheckList::Nomination nomination = CheckList::Nomination::Regular;
  // ICE-CONTROLLING / ICE-CONTROLLED: the larger one keeps controlling in a role conflict.
  std::uint64_t tieBreaker = 0;
  IceCredentials credentials;
  RetransmitPolicy retransmit;
  // Pacing: a new check starts at most once per Ta (RFC 8445 14.2).
  std::chrono::milliseconds ta{50};
  // Regular nomination: how long after the first valid pair the controlling agent waits for a
  // better pair before nominating the best valid one.
  std::chrono::milliseconds nominationWait{1000};
  ConsentFreshness::Config consent;
  std::size_t maxLocalCandidates = 16;
  std::size_t maxRemoteCandidates = 64;
  std::size_t maxPairs = 100;  // live pairs in the CheckList
  std::size_t maxChecksInFlight = 32;
  // Uniform in [0, 1): the consent interval's jitter. Required.
  std::function<double()> random01;
  // A fresh transaction id per request; RFC 8489 wants them cryptographically random. Required.
  std::function<TransactionId()> transactionId;
};

enum class IceAgentState {
  Checking,      // no pair selected yet
  Connected,     // a pair is selected and the peer consents to traffic on it
  Failed,        // every pair failed and the peer sent end-of-candidates
  Disconnected,  // consent on the selected pair was lost (final)
};

// A datagram to send from `from` (one of the local bases) to `to`.
struct IceTransmit {
  StunAddress from;
  StunAddress to;
  std::vector<std::uint8_t> bytes;
};

// The pair ICE selected: send from `localBase` to `remote`. `local` is the local candidate
// (the base itself, or the peer-reflexive address the peer sees).
struct IceSelectedPair {
  StunAddress localBase;
  StunAddress local;
  StunAddress remote;
  bool operator==(const IceSelectedPair&) const = default;
};

struct PairSelected {
  IceSelectedPair pair;
};
struct IceFailed {
  std::string reason;
};
struct ConsentLost {};
struct RoleSwitched {
  IceRole role;  // the role now held
};
// A request went out whose response the demux is to route to this connection.
struct TransactionStarted {
  TransactionId id;
};
// That request is answered, timed out or abandoned: the demux may forget it.
struct TransactionEnded {
  TransactionId id;
};
using IceEvent = std::variant<PairSelected, IceFailed, ConsentLost, RoleSwitched,
                              TransactionStarted, TransactionEnded>;

class IceAgent {
 public:
  // Throws std::invalid_argument without random01 or transactionId.
  explicit IceAgent(IceAgentConfig config);

  // A local candidate gathered by the caller (host candidates; a server-reflexive one pairs
  // through its base). False when refused: the limit is reached.
  bool addLocal(const Candidate& candidate);
  // A remote candidate trickled in. False when refused: the limit is reached (a candidate at
  // an address already known, replacing a peer-reflexive one, is always taken).
  bool addRemote(const Candidate& candidate);
  // The peer's end-of-candidates, and the end of this end's gathering: once both came and
  // every pair failed, ICE fails.
  void remoteCandidatesComplete();
  void localCandidatesComplete();

  // A STUN message routed to this connection: `datagram` arrived at local base `localBase`
  // from `source`, and `parsed` is what parseStun read from it. Requests are answered (and, when
  // valid, teach the checklist: peer-reflexive candidates, triggered checks, nomination, role
  // switches); responses end the matching check; anything else is dropped.
  void onStun(Clock::time_point now, const StunAddress& localBase, const StunAddress& source,
              std::span<const std::uint8_t> datagram, const ParsedStun& parsed);
  // Runs what is due at `now`: retransmissions and timeouts, the next paced check, the
  // nomination timer, consent requests and expiry.
  void tick(Clock::time_point now);

  std::vector<IceTransmit> takeTransmits();
  std::vector<IceEvent> takeEvents();
  // When tick is to run next; nothing when nothing is pending. A time before the last input's
  // means at once.
  std::optional<Clock::time_point> nextDeadline() const;

  IceAgentState state() const { return state_; }
  IceRole role() const { return checkList_.role(); }
  std::optional<IceSelectedPair> selectedPair() const;
  // When consent on the selected pair runs out unless renewed; nothing before selection.
  std::optional<Clock::time_point> consentExpiresAt() const;

  // For tests and diagnostics.
  const CheckList& checkList() const { return checkList_; }
  std::size_t checksInFlight() const;  // connectivity checks, without the consent request
  std::size_t candidatesRefused() const { return refused_; }

 private:
  struct InFlight {
    BindingCheck check;
    std::optional<std::size_t> pair;  // nothing for a consent request
    bool nominate = false;
    IceRole role = IceRole::Controlling;  // the role the request claimed
    StunAddress from, to;
  };

  bool knowsRemote(const StunAddress& address) const;
  bool knowsLocal(const StunAddress& address) const;
  bool isLocalBase(const StunAddress& address) const;
  void onRequest(Clock::time_point now, const StunAddress& localBase, const StunAddress& source,
                 std::span<const std::uint8_t> datagram, const ParsedStun& parsed);
  void onResponse(Clock::time_point now, const StunAddress& localBase, const StunAddress& source,
                  std::span<const std::uint8_t> datagram, const ParsedStun& parsed);
  void send(Clock::time_point now, std::optional<std::size_t> pair, bool nominate,
            const StunAddress& from, const StunAddress& to, std::uint32_t priority);
  void startNextCheck(Clock::time_point now);
  void sendConsentRequest(Clock::time_point now);
  void finish(Clock::time_point now, InFlight done);
  void abandonAll();
  void update(Clock::time_point now);
  // An event, built in place (a temporary variant moved into the queue trips GCC 12's
  // maybe-uninitialized at -O2).
  template <typename E, typename... Args>
  void emit(Args&&... args) {
    events_.emplace_back(std::in_place_type<E>, std::forward<Args>(args)...);
  }

  IceAgentConfig config_;
  CheckList checkList_;
  std::vector<InFlight> inFlight_;
  std::vector<IceTransmit> transmits_;
  std::vector<IceEvent> events_;
  IceAgentState state_ = IceAgentState::Checking;
  IceRole reportedRole_;
  std::optional<std::size_t> reportedSelection_;
  // Pacing: when the next check may start, and whether the checklist had nothing to check
  // since the last input that could give it something.
  Clock::time_point nextCheckAt_{};
  bool idle_ = false;
  std::optional<Clock::time_point> nominationAt_;
  std::optional<ConsentFreshness> consent_;
  std::size_t refused_ = 0;
};

}  // namespace ifmesh::ice
