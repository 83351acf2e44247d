#pragma once
// Server-reflexive addresses of an I/O thread's shared sockets (udp_mux_hub.hpp): where a STUN
// server sees each socket. Every connection of the thread gathers on the same sockets, so they
// share the answer too: one Binding request per socket and server is in flight at a time
// (ice/server_reflexive_query.hpp), however many connections wait on it, and an answer serves
// the connections that gather within kLifetime after it without a datagram. A failure is not
// kept: the next connection asks again.
//
// The queries' responses come back on the shared sockets: the demultiplexer routes them here by
// transaction id, under the connection id the hub reserved for them. Loop thread only.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "ice/datagram_demux.hpp"
#include "ice/server_reflexive_query.hpp"
#include "ice/stun_message.hpp"
#include "rtc/io_loop.hpp"

namespace ifmesh::rtc {

class UdpMuxReflexive {
 public:
  using Clock = std::chrono::steady_clock;
  using Done = std::function<void(std::optional<ice::StunAddress> mapped)>;
  using Send = std::function<void(const ice::StunAddress& localBase, const ice::StunAddress& to,
                                  std::span<const std::uint8_t> datagram)>;

  // How long an answer stands for the connections that gather after it.
  static constexpr std::chrono::seconds kLifetime{30};

  struct Counters {
    std::uint64_t requests = 0;   // Binding requests sent, retransmissions included
    std::uint64_t answered = 0;   // queries that got a usable answer
    std::uint64_t failed = 0;     // queries that got an error, an unusable answer or none
    std::uint64_t fromCache = 0;  // gatherings served by a standing answer
  };

  // `id`: the connection id the demultiplexer routes this object's responses under.
  UdpMuxReflexive(IoLoop& loop, ice::DatagramDemux& demux, ice::ConnectionId id, Send send);
  UdpMuxReflexive(const UdpMuxReflexive&) = delete;
  UdpMuxReflexive& operator=(const UdpMuxReflexive&) = delete;

  // Where `server` sees the socket on `localBase`, to `done`: at once from a standing answer,
  // otherwise when the query ends (nothing when it failed). `done` runs on the loop thread and
  // may call query again.
  void query(const ice::StunAddress& localBase, const ice::StunAddress& server, Done done);
  // A STUN response the demultiplexer routed to this object's id.
  void onResponse(const ice::StunAddress& localBase, const ice::StunAddress& source,
                  const ice::StunMessage& message);

  const Counters& counters() const { return counters_; }

 private:
  struct Entry {
    ice::StunAddress localBase, server;
    std::optional<ice::ServerReflexiveQuery> query;  // while one is in flight
    std::optional<ice::StunAddress> mapped;
    Clock::time_point answeredAt;
    std::vector<Done> waiting;
    IoLoop::Timer timer;
  };

  Entry& entry(const ice::StunAddress& localBase, const ice::StunAddress& server);
  // Sends what the query has due, ends it or sets the timer for its next deadline.
  void pump(Entry& entry);
  void finish(Entry& entry);

  IoLoop& loop_;
  ice::DatagramDemux& demux_;
  ice::ConnectionId id_;
  Send send_;
  std::vector<std::unique_ptr<Entry>> entries_;  // a few: sockets x STUN servers
  Counters counters_;
};

}  // namespace ifmesh::rtc
