#pragma once
// A STUN server on 127.0.0.1 for tests, on a real UDP socket and a thread of its own: it answers
// each Binding request with the XOR-MAPPED-ADDRESS it is told to report (so that a test sees a
// server-reflexive address that differs from the host one, as behind a NAT), or stays silent.
// It counts the requests it received.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "ice/stun_message.hpp"

namespace ifmesh::test {

class ScriptedStunServer {
 public:
  // Answers with `mapped`, or never when it is empty.
  explicit ScriptedStunServer(std::optional<ice::StunAddress> mapped) : mapped_(mapped) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &length) != 0)
      throw std::runtime_error("scripted STUN server: cannot bind");
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~ScriptedStunServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  ScriptedStunServer(const ScriptedStunServer&) = delete;
  ScriptedStunServer& operator=(const ScriptedStunServer&) = delete;

  std::string url() const { return "stun:127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_; }

 private:
  void run() {
    std::array<std::uint8_t, 2048> buffer{};
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      sockaddr_in from{};
      socklen_t fromLength = sizeof from;
      auto n = ::recvfrom(fd_, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from),
                          &fromLength);
      if (n <= 0) continue;
      auto parsed = ice::parseStun({buffer.data(), static_cast<std::size_t>(n)});
      if (!parsed || parsed->message.messageClass != ice::StunClass::Request) continue;
      ++requests_;
      if (!mapped_) continue;
      ice::StunMessage answer;
      answer.messageClass = ice::StunClass::Success;
      answer.transactionId = parsed->message.transactionId;
      answer.add(ice::stun_attribute::kXorMappedAddress,
                 ice::encodeXorAddress(*mapped_, answer.transactionId));
      auto bytes = ice::serializeStun(answer, {}, true);
      ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&from), fromLength);
    }
  }

  std::optional<ice::StunAddress> mapped_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

}  // namespace ifmesh::test
