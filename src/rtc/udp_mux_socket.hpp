#pragma once
// One UDP socket that an I/O thread shares among all its connections: the transport under the
// ICE agent of src/ice, where every connection of a thread sends and receives through one
// descriptor (DatagramDemux tells their datagrams apart) instead of one or more each.
//
// Threading: loop thread only, like everything a connection owns (io_loop.hpp); construct and
// destroy it there too.
// * Receiving: when the socket is readable, every datagram that waits is read, up to kBatch per
//   recvmmsg call, and handed with its source to the receiver, in arrival order. A datagram
//   longer than kMaxDatagram is dropped (counted), never handed on cut short.
// * Sending: send() copies the datagram into a batch that leaves with sendmmsg once the current
//   receive pass ends, or otherwise in a task posted to the loop (a timer's or a user's send), or
//   at once when the batch is full; so a pass that answers many datagrams makes one system call.
//   A datagram the kernel refuses (a full socket buffer, an unreachable destination) is dropped
//   and counted, as the network may drop any datagram.
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "ice/stun_message.hpp"
#include "rtc/io_loop.hpp"

namespace ifmesh::rtc {

class UdpMuxSocket {
 public:
  // Datagrams per recvmmsg / sendmmsg call.
  static constexpr std::size_t kBatch = 64;
  // The largest datagram read or sent: above any ICE, DTLS or TURN datagram of ours (a DTLS
  // record of a 1,200-byte SCTP packet, a TURN ChannelData frame around it).
  static constexpr std::size_t kMaxDatagram = 2048;

  using Receiver =
      std::function<void(std::span<const std::uint8_t> datagram, const ice::StunAddress& source)>;

  struct Counters {
    std::uint64_t received = 0, sent = 0;
    std::uint64_t receiveCalls = 0, sendCalls = 0;
    std::uint64_t truncated = 0;   // incoming datagrams longer than kMaxDatagram, dropped
    std::uint64_t sendErrors = 0;  // outgoing datagrams the kernel refused, dropped
    std::uint64_t oversize = 0;    // send() calls above kMaxDatagram, dropped
  };

  // Binds to `local` (port 0: a free port) and starts reading. Throws Error(Errc::Io) when the
  // socket cannot be made or bound.
  UdpMuxSocket(IoLoop& loop, const ice::StunAddress& local, Receiver receiver);
  ~UdpMuxSocket();
  UdpMuxSocket(const UdpMuxSocket&) = delete;
  UdpMuxSocket& operator=(const UdpMuxSocket&) = delete;

  void setReceiver(Receiver receiver) { receiver_ = std::move(receiver); }
  // The bound address, with the port the kernel chose.
  const ice::StunAddress& localAddress() const { return local_; }

  void send(const ice::StunAddress& to, std::span<const std::uint8_t> datagram);
  // Sends what the batch holds now.
  void flush();

  const Counters& counters() const { return counters_; }

 private:
  struct Slot {
    sockaddr_storage address{};
    socklen_t addressLength = 0;
    std::size_t length = 0;
    std::array<std::uint8_t, kMaxDatagram> bytes{};
  };

  void onReadable();

  IoLoop& loop_;
  Receiver receiver_;
  int fd_ = -1;
  ice::StunAddress local_;
  IoLoop::FdWatch watch_;
  bool receiving_ = false;    // inside onReadable: its end flushes
  bool flushPosted_ = false;  // a posted flush is pending
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::unique_ptr<std::array<Slot, kBatch>> in_ = std::make_unique<std::array<Slot, kBatch>>();
  std::unique_ptr<std::array<Slot, kBatch>> out_ = std::make_unique<std::array<Slot, kBatch>>();
  std::size_t outCount_ = 0;
  Counters counters_;
};

// Conversions between ICE transport addresses and the socket API's.
socklen_t toSockaddr(const ice::StunAddress& address, sockaddr_storage& out);
ice::StunAddress fromSockaddr(const sockaddr_storage& address);

}  // namespace ifmesh::rtc
