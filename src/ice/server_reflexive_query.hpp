#pragma once
// One question to a STUN server (RFC 8489 Binding request, RFC 8445 5.1.1.2): at which
// transport address does it see the socket the request leaves from? Its answer is a
// server-reflexive candidate of that socket. Sans-IO: the caller sends the request when poll
// says so, hands over the STUN messages that arrive, and reads the outcome.
//
// * Retransmission (RFC 8489 6.2.1, with libwebrtc's shorter first timeout, since a gathering
//   that waits on a silent server holds back the end of candidates): the request goes out at 0,
//   250, 750 and 1,750 ms; with no answer by 3,750 ms the query fails.
// * Only a response from the server's own address, with this query's transaction id, counts.
//   A success needs an XOR-MAPPED-ADDRESS of the family it was asked from; an error response
//   ends the query with its code and reason.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ice/stun_message.hpp"

namespace ifmesh::ice {

class ServerReflexiveQuery {
 public:
  using Clock = std::chrono::steady_clock;
  enum class State { Pending, Succeeded, Failed };

  static constexpr std::chrono::milliseconds kInitialRto{250};
  static constexpr int kTransmissions = 4;
  // How long after the last transmission an answer is still awaited: RFC 8489's Rm (16) times
  // the initial RTO, as libwebrtc shortens it too.
  static constexpr std::chrono::milliseconds kLastWait{2000};

  // A query to `server` from a socket of `server`'s family, first sent by the first poll.
  ServerReflexiveQuery(const StunAddress& server, const TransactionId& transaction);

  // The request when one is due at `now` (the first at once, then the retransmissions); nothing
  // otherwise. After the last wait it marks the query failed.
  std::optional<std::span<const std::uint8_t>> poll(Clock::time_point now);
  // When poll next has something to do; nothing once the query ended.
  std::optional<Clock::time_point> deadline() const;

  // A STUN message that arrived from `source`: true when it is this query's answer (the query
  // ends), false when it is not (the query is unchanged).
  bool onMessage(const StunAddress& source, const StunMessage& message);

  State state() const { return state_; }
  // What the server saw, once the query succeeded.
  const std::optional<StunAddress>& mapped() const { return mapped_; }
  // Why the query failed, once it did.
  const std::string& failure() const { return failure_; }
  const TransactionId& transaction() const { return transaction_; }
  const StunAddress& server() const { return server_; }

 private:
  StunAddress server_;
  TransactionId transaction_;
  std::vector<std::uint8_t> request_;
  State state_ = State::Pending;
  int sent_ = 0;
  std::optional<Clock::time_point> due_;  // the next transmission, or the give-up time
  std::optional<StunAddress> mapped_;
  std::string failure_;
};

}  // namespace ifmesh::ice
