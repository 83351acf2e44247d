#include "rtc/udp_mux_socket.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "ifmesh/error.hpp"

namespace ifmesh::rtc {

namespace {
// Every connection of a thread shares these buffers: room for bursts of many of them at once.
constexpr int kSocketBufferBytes = 4 * 1024 * 1024;

[[noreturn]] void fail(const std::string& what) {
  throw Error(Errc::Io, what + ": " + std::strerror(errno));
}
}  // namespace

socklen_t toSockaddr(const ice::StunAddress& address, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof out);
  if (address.ipv6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(address.port);
    std::memcpy(&in6->sin6_addr, address.ip.data(), 16);
    return sizeof(sockaddr_in6);
  }
  auto* in4 = reinterpret_cast<sockaddr_in*>(&out);
  in4->sin_family = AF_INET;
  in4->sin_port = htons(address.port);
  std::memcpy(&in4->sin_addr, address.ip.data(), 4);
  return sizeof(sockaddr_in);
}

ice::StunAddress fromSockaddr(const sockaddr_storage& address) {
  ice::StunAddress out;
  if (address.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
    out.ipv6 = true;
    std::memcpy(out.ip.data(), &in6->sin6_addr, 16);
    out.port = ntohs(in6->sin6_port);
  } else {
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(&address);
    std::memcpy(out.ip.data(), &in4->sin_addr, 4);
    out.port = ntohs(in4->sin_port);
  }
  return out;
}

UdpMuxSocket::UdpMuxSocket(IoLoop& loop, const ice::StunAddress& local, Receiver receiver)
    : loop_(loop), receiver_(std::move(receiver)) {
  fd_ = ::socket(local.ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) fail("socket");
  int size = kSocketBufferBytes;
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (local.ipv6) {
    int only = 1;  // an IPv6 candidate is IPv6 only: IPv4 has its own socket
    ::setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only);
  }
  sockaddr_storage address;
  socklen_t length = toSockaddr(local, address);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    int saved = errno;
    ::close(fd_);
    errno = saved;
    fail("bind");
  }
  length = sizeof address;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    int saved = errno;
    ::close(fd_);
    errno = saved;
    fail("getsockname");
  }
  local_ = fromSockaddr(address);
  watch_ = loop_.watchReadable(fd_, [this] { onReadable(); });
}

UdpMuxSocket::~UdpMuxSocket() {
  *alive_ = false;
  watch_.cancel();
  flush();
  ::close(fd_);
}

void UdpMuxSocket::onReadable() {
  auto alive = alive_;
  receiving_ = true;
  std::array<mmsghdr, kBatch> headers;
  std::array<iovec, kBatch> vectors;
  for (;;) {
    auto& in = *in_;
    for (std::size_t i = 0; i < kBatch; ++i) {
      vectors[i] = {in[i].bytes.data(), in[i].bytes.size()};
      headers[i] = {};
      headers[i].msg_hdr.msg_name = &in[i].address;
      headers[i].msg_hdr.msg_namelen = sizeof in[i].address;
      headers[i].msg_hdr.msg_iov = &vectors[i];
      headers[i].msg_hdr.msg_iovlen = 1;
    }
    int n = ::recvmmsg(fd_, headers.data(), kBatch, MSG_DONTWAIT, nullptr);
    ++counters_.receiveCalls;
    if (n <= 0) break;  // EAGAIN: all read; anything else ends this pass, the next retries
    for (int i = 0; i < n; ++i) {
      if (headers[i].msg_hdr.msg_flags & MSG_TRUNC) {
        ++counters_.truncated;
        continue;
      }
      ++counters_.received;
      if (receiver_)
        receiver_(std::span<const std::uint8_t>(in[i].bytes.data(), headers[i].msg_len),
                  fromSockaddr(in[i].address));
      if (!*alive) return;  // the receiver destroyed this socket
    }
    if (static_cast<std::size_t>(n) < kBatch) break;
  }
  receiving_ = false;
  flush();
}

void UdpMuxSocket::send(const ice::StunAddress& to, std::span<const std::uint8_t> datagram) {
  if (datagram.size() > kMaxDatagram) {
    ++counters_.oversize;
    return;
  }
  if (outCount_ == kBatch) flush();
  Slot& slot = (*out_)[outCount_++];
  slot.addressLength = toSockaddr(to, slot.address);
  slot.length = datagram.size();
  std::memcpy(slot.bytes.data(), datagram.data(), datagram.size());
  if (receiving_ || flushPosted_) return;  // the receive pass, or the posted flush, sends it
  flushPosted_ = true;
  loop_.post([this, alive = std::weak_ptr<bool>(alive_)] {
    auto held = alive.lock();
    if (!held || !*held) return;
    flushPosted_ = false;
    flush();
  });
}

void UdpMuxSocket::flush() {
  std::array<mmsghdr, kBatch> headers;
  std::array<iovec, kBatch> vectors;
  auto& out = *out_;
  std::size_t next = 0;
  while (next < outCount_) {
    const std::size_t count = outCount_ - next;
    for (std::size_t i = 0; i < count; ++i) {
      Slot& slot = out[next + i];
      vectors[i] = {slot.bytes.data(), slot.length};
      headers[i] = {};
      headers[i].msg_hdr.msg_name = &slot.address;
      headers[i].msg_hdr.msg_namelen = slot.addressLength;
      headers[i].msg_hdr.msg_iov = &vectors[i];
      headers[i].msg_hdr.msg_iovlen = 1;
    }
    int n = ::sendmmsg(fd_, headers.data(), static_cast<unsigned>(count), MSG_DONTWAIT);
    ++counters_.sendCalls;
    if (n <= 0) {
      // The first datagram was refused: drop it, and try the rest.
      ++counters_.sendErrors;
      ++next;
      continue;
    }
    counters_.sent += static_cast<std::uint64_t>(n);
    next += static_cast<std::size_t>(n);
  }
  outCount_ = 0;
}

}  // namespace ifmesh::rtc
