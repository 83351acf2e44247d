#include "ice/binding_check.hpp"

#include <string_view>

namespace ifmesh::ice {

namespace {

constexpr int kRoleConflict = 487;

// A response of class `cls` to `request` (same transaction), protected with `password` when
// there is one (errors to unauthenticated requests go unprotected).
std::vector<std::uint8_t> response(const StunMessage& request, StunClass cls,
                                   std::vector<StunAttribute> attributes,
                                   std::string_view password) {
  StunMessage m;
  m.method = stun_method::kBinding;
  m.messageClass = cls;
  m.transactionId = request.transactionId;
  m.attributes = std::move(attributes);
  return serializeStun(m, stunBytes(password), true);
}

std::vector<std::uint8_t> errorResponse(const StunMessage& request, int code,
                                        std::string_view reason, std::string_view password) {
  return response(request, StunClass::Error,
                  {{stun_attribute::kErrorCode, encodeErrorCode(code, reason)}}, password);
}

}  // namespace

BindingCheck::BindingCheck(const IceCredentials& credentials, IceRole role,
                           std::uint64_t tieBreaker, std::uint32_t priority, bool nominate,
                           const TransactionId& transactionId, RetransmitPolicy policy)
    : remotePassword_(credentials.remotePassword), transactionId_(transactionId), policy_(policy) {
  StunMessage m;
  m.method = stun_method::kBinding;
  m.messageClass = StunClass::Request;
  m.transactionId = transactionId;
  m.add(stun_attribute::kUsername, credentials.remoteUfrag + ":" + credentials.localUfrag);
  m.add(stun_attribute::kPriority, encodeUint32(priority));
  m.add(role == IceRole::Controlling ? stun_attribute::kIceControlling
                                     : stun_attribute::kIceControlled,
        encodeUint64(tieBreaker));
  if (nominate && role == IceRole::Controlling)
    m.add(stun_attribute::kUseCandidate, std::span<const std::uint8_t>{});
  request_ = serializeStun(m, stunBytes(remotePassword_), true);
}

Clock::time_point BindingCheck::start(Clock::time_point now) {
  transmissions_ = 1;
  wait_ = policy_.initialRto;
  deadline_ = now + (policy_.maxTransmissions > 1 ? wait_ : policy_.lastWait);
  return *deadline_;
}

bool BindingCheck::poll(Clock::time_point now) {
  if (outcome_ || !deadline_ || now < *deadline_) return false;
  if (transmissions_ >= policy_.maxTransmissions) {
    outcome_ = CheckFailed{"timeout"};
    deadline_.reset();
    return false;
  }
  ++transmissions_;
  if (transmissions_ == policy_.maxTransmissions) {
    *deadline_ += policy_.lastWait;
  } else {
    wait_ *= 2;
    *deadline_ += wait_;
  }
  return true;
}

std::optional<Clock::time_point> BindingCheck::nextDeadline() const {
  return deadline_;
}

bool BindingCheck::onResponse(std::span<const std::uint8_t> datagram, const ParsedStun& parsed) {
  const StunMessage& m = parsed.message;
  if (outcome_ || m.method != stun_method::kBinding || m.transactionId != transactionId_ ||
      (m.messageClass != StunClass::Success && m.messageClass != StunClass::Error))
    return false;
  // Only the peer knows its password: anything else is a forgery, and the check goes on.
  if (!checkIntegrity(datagram, parsed, stunBytes(remotePassword_))) return false;
  deadline_.reset();
  if (m.messageClass == StunClass::Success) {
    const StunAttribute* mapped = m.find(stun_attribute::kXorMappedAddress);
    auto address = mapped ? decodeXorAddress(mapped->value, m.transactionId) : std::nullopt;
    if (address)
      outcome_ = CheckSucceeded{*address};
    else
      outcome_ = CheckFailed{"success response without a XOR-MAPPED-ADDRESS"};
    return true;
  }
  const StunAttribute* code = m.find(stun_attribute::kErrorCode);
  auto error = code ? decodeErrorCode(code->value) : std::nullopt;
  if (error && error->code == kRoleConflict)
    outcome_ = CheckRoleConflict{};
  else if (error)
    outcome_ = CheckFailed{std::to_string(error->code) + " " + error->reason};
  else
    outcome_ = CheckFailed{"error response without an ERROR-CODE"};
  return true;
}

BindingAnswer answerBindingRequest(std::span<const std::uint8_t> datagram, const ParsedStun& parsed,
                                   const IceCredentials& credentials, IceRole role,
                                   std::uint64_t tieBreaker, const StunAddress& source) {
  BindingAnswer answer;
  const StunMessage& m = parsed.message;
  if (m.method != stun_method::kBinding || m.messageClass != StunClass::Request) {
    answer.refusal = "not a Binding request";
    return answer;
  }
  if (!parsed.fingerprint) {
    answer.refusal = "no FINGERPRINT";  // RFC 8445 7.2.2: every check carries one
    return answer;
  }
  const StunAttribute* username = m.find(stun_attribute::kUsername);
  if (!username || !parsed.integrityOffset) {
    answer.refusal = "no USERNAME or MESSAGE-INTEGRITY";
    answer.response = errorResponse(m, 400, "Bad Request", {});
    return answer;
  }
  const std::string_view name(reinterpret_cast<const char*>(username->value.data()),
                              username->value.size());
  const std::string expected = credentials.localUfrag + ":" + credentials.remoteUfrag;
  if (name != expected || !checkIntegrity(datagram, parsed, stunBytes(credentials.localPassword))) {
    answer.refusal = name != expected ? "USERNAME of another session" : "bad MESSAGE-INTEGRITY";
    answer.response = errorResponse(m, 401, "Unauthorized", {});
    return answer;
  }
  const StunAttribute* priority = m.find(stun_attribute::kPriority);
  auto priorityValue = priority ? decodeUint32(priority->value) : std::nullopt;
  const StunAttribute* controlling = m.find(stun_attribute::kIceControlling);
  const StunAttribute* controlled = m.find(stun_attribute::kIceControlled);
  auto theirs = controlling  ? decodeUint64(controlling->value)
                : controlled ? decodeUint64(controlled->value)
                             : std::nullopt;
  if (!priorityValue || !theirs || (controlling && controlled)) {
    answer.refusal = "no PRIORITY or no single role attribute";
    answer.response = errorResponse(m, 400, "Bad Request", credentials.localPassword);
    return answer;
  }
  // RFC 8445 7.3.1.1: both claim the same role; the larger tie-breaker keeps controlling.
  if (role == IceRole::Controlling && controlling) {
    if (tieBreaker >= *theirs) {
      answer.refusal = "role conflict: this agent stays controlling";
      answer.response = errorResponse(m, kRoleConflict, "Role Conflict", credentials.localPassword);
      return answer;
    }
    answer.switchRoleTo = IceRole::Controlled;
  } else if (role == IceRole::Controlled && controlled) {
    if (tieBreaker >= *theirs) {
      answer.switchRoleTo = IceRole::Controlling;
    } else {
      answer.refusal = "role conflict: this agent stays controlled";
      answer.response = errorResponse(m, kRoleConflict, "Role Conflict", credentials.localPassword);
      return answer;
    }
  }
  answer.accepted = true;
  answer.priority = *priorityValue;
  answer.useCandidate = m.find(stun_attribute::kUseCandidate) != nullptr;
  answer.response =
      response(m, StunClass::Success,
               {{stun_attribute::kXorMappedAddress, encodeXorAddress(source, m.transactionId)}},
               credentials.localPassword);
  return answer;
}

}  // namespace ifmesh::ice
