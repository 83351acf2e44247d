#include "ice/server_reflexive_query.hpp"

namespace ifmesh::ice {

ServerReflexiveQuery::ServerReflexiveQuery(const StunAddress& server,
                                           const TransactionId& transaction)
    : server_(server), transaction_(transaction) {
  StunMessage request;
  request.method = stun_method::kBinding;
  request.messageClass = StunClass::Request;
  request.transactionId = transaction;
  request_ = serializeStun(request, {}, true);
}

std::optional<std::span<const std::uint8_t>> ServerReflexiveQuery::poll(Clock::time_point now) {
  if (state_ != State::Pending) return std::nullopt;
  if (due_ && now < *due_) return std::nullopt;
  if (sent_ == kTransmissions) {
    state_ = State::Failed;
    failure_ = "no answer from the STUN server";
    due_.reset();
    return std::nullopt;
  }
  // Timeouts of RTO, 2 RTO, 4 RTO... after each transmission but the last.
  auto wait = sent_ + 1 == kTransmissions ? std::chrono::duration_cast<Clock::duration>(kLastWait)
                                          : kInitialRto * (1 << sent_);
  ++sent_;
  due_ = now + wait;
  return std::span<const std::uint8_t>(request_);
}

std::optional<ServerReflexiveQuery::Clock::time_point> ServerReflexiveQuery::deadline() const {
  if (state_ != State::Pending) return std::nullopt;
  return due_;
}

bool ServerReflexiveQuery::onMessage(const StunAddress& source, const StunMessage& message) {
  if (state_ != State::Pending || sent_ == 0 || source != server_ ||
      message.method != stun_method::kBinding || message.transactionId != transaction_)
    return false;
  if (message.messageClass == StunClass::Error) {
    state_ = State::Failed;
    failure_ = "the STUN server refused the request";
    if (const auto* attribute = message.find(stun_attribute::kErrorCode)) {
      if (auto error = decodeErrorCode(attribute->value)) {
        failure_ += ": " + std::to_string(error->code) + " ";
        // The server's words, as printable ASCII and bounded: they end up in logs.
        for (char c : error->reason.substr(0, 128)) failure_ += c >= 0x20 && c < 0x7f ? c : '?';
      }
    }
    due_.reset();
    return true;
  }
  if (message.messageClass != StunClass::Success) return false;
  const auto* attribute = message.find(stun_attribute::kXorMappedAddress);
  auto address = attribute ? decodeXorAddress(attribute->value, transaction_) : std::nullopt;
  due_.reset();
  if (!address || address->ipv6 != server_.ipv6 || address->port == 0) {
    state_ = State::Failed;
    failure_ = "the STUN server's answer has no usable XOR-MAPPED-ADDRESS";
    return true;
  }
  state_ = State::Succeeded;
  mapped_ = address;
  return true;
}

}  // namespace ifmesh::ice
