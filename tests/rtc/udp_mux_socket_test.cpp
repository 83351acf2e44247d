// The UDP socket an I/O thread shares among its connections, over real loopback sockets: what is
// sent arrives whole and in order with its source, sends of one receive pass leave in one
// sendmmsg call, oversize datagrams both ways are dropped and counted, and the receiver may
// destroy the socket.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "ice/stun_message.hpp"
#include "rtc/io_loop.hpp"
#include "rtc/udp_mux_socket.hpp"

namespace ifmesh::rtc {
namespace {

using namespace std::chrono_literals;

ice::StunAddress loopback4() {
  ice::StunAddress a;
  a.ip = {127, 0, 0, 1};
  return a;
}

template <typename Pred>
bool waitFor(Pred pred, std::chrono::milliseconds limit = 5s) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

std::vector<std::uint8_t> numbered(std::uint32_t n, std::size_t size) {
  std::vector<std::uint8_t> d(size, static_cast<std::uint8_t>(n));
  for (int i = 0; i < 4 && static_cast<std::size_t>(i) < size; ++i) d[i] = (n >> (8 * i)) & 0xff;
  return d;
}

std::uint32_t numberOf(std::span<const std::uint8_t> d) {
  return d[0] | (d[1] << 8) | (d[2] << 16) | (static_cast<std::uint32_t>(d[3]) << 24);
}

struct Received {
  std::atomic<std::uint32_t> count{0};
  std::atomic<bool> inOrder{true};
  std::atomic<bool> intact{true};
  std::atomic<bool> fromSender{true};
};

TEST(UdpMuxSocket, DatagramsArriveWholeInOrderWithTheirSource) {
  IoLoop loop;
  Received got;
  std::unique_ptr<UdpMuxSocket> a, b;
  loop.invoke([&] {
    a = std::make_unique<UdpMuxSocket>(loop, loopback4(), [](auto, const auto&) {});
    b = std::make_unique<UdpMuxSocket>(
        loop, loopback4(), [&](std::span<const std::uint8_t> d, const ice::StunAddress& from) {
          std::uint32_t n = got.count.load();
          if (numberOf(d) != n) got.inOrder = false;
          if (d.size() != 40 + n % 1100 || d.back() != static_cast<std::uint8_t>(n))
            got.intact = false;
          if (!(from == a->localAddress())) got.fromSender = false;
          got.count = n + 1;
        });
  });
  EXPECT_NE(a->localAddress().port, 0);
  EXPECT_NE(a->localAddress().port, b->localAddress().port);
  // Rounds of kBatch sends from one loop task, each round read before the next: within what a
  // default socket buffer holds, so nothing is lost on the way.
  constexpr std::uint32_t kRounds = 100;
  for (std::uint32_t round = 0; round < kRounds; ++round) {
    loop.invoke([&] {
      for (std::uint32_t i = 0; i < UdpMuxSocket::kBatch; ++i) {
        std::uint32_t n = round * UdpMuxSocket::kBatch + i;
        a->send(b->localAddress(), numbered(n, 40 + n % 1100));
      }
    });
    ASSERT_TRUE(waitFor([&] { return got.count == (round + 1) * UdpMuxSocket::kBatch; }))
        << "round " << round << ": " << got.count << " received";
  }
  EXPECT_TRUE(got.inOrder);
  EXPECT_TRUE(got.intact);
  EXPECT_TRUE(got.fromSender);
  loop.invoke([&] {
    EXPECT_EQ(a->counters().sent, kRounds * UdpMuxSocket::kBatch);
    // A round's sends leave together: one sendmmsg each.
    EXPECT_EQ(a->counters().sendCalls, kRounds);
    EXPECT_EQ(a->counters().sendErrors, 0u);
    EXPECT_EQ(b->counters().received, kRounds * UdpMuxSocket::kBatch);
    EXPECT_LT(b->counters().receiveCalls, b->counters().received);
    a.reset();
    b.reset();
  });
}

// An echo from inside the receiver: the answers of one receive pass leave together.
TEST(UdpMuxSocket, AnswersOfOneReceivePassLeaveTogether) {
  IoLoop loop;
  std::atomic<std::uint32_t> echoed{0};
  std::unique_ptr<UdpMuxSocket> client, server;
  loop.invoke([&] {
    client =
        std::make_unique<UdpMuxSocket>(loop, loopback4(), [&](auto, const auto&) { ++echoed; });
    server = std::make_unique<UdpMuxSocket>(
        loop, loopback4(), [&](std::span<const std::uint8_t> d, const ice::StunAddress& from) {
          server->send(from, d);
        });
  });
  constexpr std::uint32_t kRounds = 50;
  for (std::uint32_t round = 0; round < kRounds; ++round) {
    loop.invoke([&] {
      for (std::uint32_t i = 0; i < 32; ++i) client->send(server->localAddress(), numbered(i, 200));
    });
    ASSERT_TRUE(waitFor([&] { return echoed == (round + 1) * 32; }));
  }
  loop.invoke([&] {
    EXPECT_EQ(server->counters().sent, kRounds * 32);
    // Fewer calls than datagrams: each pass answered what it read with one sendmmsg.
    EXPECT_LE(server->counters().sendCalls, server->counters().receiveCalls);
    EXPECT_LT(server->counters().sendCalls, server->counters().sent);
    client.reset();
    server.reset();
  });
}

TEST(UdpMuxSocket, OversizeDatagramsAreDroppedAndCounted) {
  IoLoop loop;
  std::atomic<int> got{0};
  std::unique_ptr<UdpMuxSocket> socket;
  loop.invoke([&] {
    socket = std::make_unique<UdpMuxSocket>(loop, loopback4(), [&](auto d, const auto&) {
      EXPECT_EQ(d.size(), 100u);
      ++got;
    });
  });
  // From a plain socket: 3,000 bytes (longer than the buffer), then 100.
  int raw = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(raw, 0);
  sockaddr_storage to;
  socklen_t length = toSockaddr(socket->localAddress(), to);
  std::vector<std::uint8_t> big(3000, 1), small(100, 2);
  ASSERT_EQ(::sendto(raw, big.data(), big.size(), 0, reinterpret_cast<sockaddr*>(&to), length),
            3000);
  ASSERT_EQ(::sendto(raw, small.data(), small.size(), 0, reinterpret_cast<sockaddr*>(&to), length),
            100);
  ASSERT_TRUE(waitFor([&] { return got == 1; }));
  ::close(raw);
  loop.invoke([&] {
    EXPECT_EQ(socket->counters().truncated, 1u);
    EXPECT_EQ(socket->counters().received, 1u);
    socket->send(socket->localAddress(), std::vector<std::uint8_t>(3000, 3));
    EXPECT_EQ(socket->counters().oversize, 1u);
    socket.reset();
  });
}

TEST(UdpMuxSocket, TheReceiverMayDestroyTheSocket) {
  IoLoop loop;
  std::atomic<int> got{0};
  std::unique_ptr<UdpMuxSocket> sender, receiver;
  loop.invoke([&] {
    sender = std::make_unique<UdpMuxSocket>(loop, loopback4(), [](auto, const auto&) {});
    receiver = std::make_unique<UdpMuxSocket>(loop, loopback4(), [&](auto, const auto&) {
      ++got;
      receiver.reset();
    });
    for (int i = 0; i < 10; ++i) sender->send(receiver->localAddress(), numbered(i, 64));
  });
  ASSERT_TRUE(waitFor([&] { return got >= 1; }));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(got, 1);
  loop.invoke([&] { sender.reset(); });
}

TEST(UdpMuxSocket, Ipv6Loopback) {
  int probe = ::socket(AF_INET6, SOCK_DGRAM, 0);
  sockaddr_in6 any{};
  any.sin6_family = AF_INET6;
  any.sin6_addr = in6addr_loopback;
  bool has6 = probe >= 0 && ::bind(probe, reinterpret_cast<sockaddr*>(&any), sizeof any) == 0;
  if (probe >= 0) ::close(probe);
  if (!has6) GTEST_SKIP() << "no ::1 on this machine";
  ice::StunAddress local;
  local.ipv6 = true;
  local.ip[15] = 1;
  IoLoop loop;
  std::atomic<int> got{0};
  std::unique_ptr<UdpMuxSocket> a, b;
  loop.invoke([&] {
    a = std::make_unique<UdpMuxSocket>(loop, local, [](auto, const auto&) {});
    b = std::make_unique<UdpMuxSocket>(loop, local, [&](auto, const ice::StunAddress& from) {
      EXPECT_TRUE(from == a->localAddress());
      ++got;
    });
    EXPECT_TRUE(a->localAddress().ipv6);
    a->send(b->localAddress(), numbered(1, 500));
  });
  ASSERT_TRUE(waitFor([&] { return got == 1; }));
  loop.invoke([&] {
    a.reset();
    b.reset();
  });
}

}  // namespace
}  // namespace ifmesh::rtc
