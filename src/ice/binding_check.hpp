#pragma once
// ICE connectivity checks as STUN Binding transactions (RFC 8445 sections 7.2 and 7.3), sans-IO:
// time and datagrams in, datagrams and outcomes out. BindingCheck is the client side of one
// check on one candidate pair (the request, its retransmissions, the response that ends it);
// answerBindingRequest is the server side (the request checked, the response or error built).
// The I/O thread that owns the socket feeds them; nothing here touches a socket or a clock.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "ice/stun_message.hpp"

namespace ifmesh::ice {

using Clock = std::chrono::steady_clock;

enum class IceRole { Controlling, Controlled };

// The short-term credentials of both ends (from the SDP's a=ice-ufrag / a=ice-pwd).
struct IceCredentials {
  std::string localUfrag, localPassword;
  std::string remoteUfrag, remotePassword;
};

// When a check's request is sent again: first after `initialRto`, then after twice as long each
// time, `maxTransmissions` sends in all (RFC 8489 6.2.1's Rc); the check fails `lastWait` after
// the last send.
struct RetransmitPolicy {
  std::chrono::milliseconds initialRto{250};
  int maxTransmissions = 7;
  std::chrono::milliseconds lastWait{4000};
};

// How a check ended.
struct CheckSucceeded {
  StunAddress mapped;  // XOR-MAPPED-ADDRESS: where the peer saw the request come from
};
struct CheckRoleConflict {};  // 487: the peer holds the same role; switch and check again
struct CheckFailed {
  std::string reason;  // an error response's code and reason, or "timeout"
};
using CheckOutcome = std::variant<CheckSucceeded, CheckRoleConflict, CheckFailed>;

class BindingCheck {
 public:
  // `priority`: the PRIORITY attribute (what a peer-reflexive candidate learnt from this check
  // would get, RFC 8445 7.2.2); `nominate`: USE-CANDIDATE (controlling agent only).
  BindingCheck(const IceCredentials& credentials, IceRole role, std::uint64_t tieBreaker,
               std::uint32_t priority, bool nominate, const TransactionId& transactionId,
               RetransmitPolicy policy = {});

  const TransactionId& transactionId() const { return transactionId_; }
  // The request (the same bytes on every retransmission).
  const std::vector<std::uint8_t>& request() const { return request_; }

  // Call at `now` once the request was first sent; returns when poll should run next.
  Clock::time_point start(Clock::time_point now);
  // At or after the time start/poll returned: true when the request is to be sent again; the
  // check has then a new deadline (nextDeadline) or, after the last wait, has failed (outcome).
  bool poll(Clock::time_point now);
  std::optional<Clock::time_point> nextDeadline() const;

  // A parsed datagram with this check's transaction id (the caller matched it, and that it came
  // from the address the request went to, RFC 8445 7.2.5.2.1). Ignored, and false, when it is not
  // a response to this request or its MESSAGE-INTEGRITY is not the remote password's; else the
  // check ends with an outcome and true.
  bool onResponse(std::span<const std::uint8_t> datagram, const ParsedStun& parsed);

  const std::optional<CheckOutcome>& outcome() const { return outcome_; }
  int transmissions() const { return transmissions_; }

 private:
  std::string remotePassword_;
  TransactionId transactionId_;
  RetransmitPolicy policy_;
  std::vector<std::uint8_t> request_;
  int transmissions_ = 0;
  std::chrono::milliseconds wait_{0};
  std::optional<Clock::time_point> deadline_;
  std::optional<CheckOutcome> outcome_;
};

// What an agent's server side makes of a Binding request that arrived from `source`.
struct BindingAnswer {
  // The response to send back to `source` (a success, or an error it can act on); empty when
  // the request is dropped without an answer (not ours, or no integrity to trust).
  std::vector<std::uint8_t> response;
  // A valid check from the peer: its PRIORITY, USE-CANDIDATE and role, for the checklist
  // (triggered checks, peer-reflexive candidates, nomination).
  bool accepted = false;
  std::uint32_t priority = 0;
  bool useCandidate = false;
  // The role this agent must take after a conflict the peer won (RFC 8445 7.3.1.1).
  std::optional<IceRole> switchRoleTo;
  std::string refusal;  // why it was not accepted, for logs
};

// RFC 8445 7.3: checks that `parsed` (read from `datagram`) is a Binding request for these
// credentials (USERNAME "localUfrag:remoteUfrag", MESSAGE-INTEGRITY with the local password,
// FINGERPRINT), resolves a role conflict against `role` and `tieBreaker`, and builds the answer.
BindingAnswer answerBindingRequest(std::span<const std::uint8_t> datagram, const ParsedStun& parsed,
                                   const IceCredentials& credentials, IceRole role,
                                   std::uint64_t tieBreaker, const StunAddress& source);

}  // namespace ifmesh::ice
