#pragma once
// A UDP relay on 127.0.0.1 that sits between two in-process PeerConnections, so a test can make
// one peer vanish without a word: once cut, nothing is forwarded either way, exactly what a
// SIGKILLed process or a pulled cable looks like on the wire (no ABORT, no close_notify).
//
// Each side's host candidates are rewritten to point at the relay socket that stands for it:
// A's candidates become `aFace` (given to B), B's become `bFace` (given to A). A datagram from B
// to aFace leaves from bFace towards A, so every source address matches a signalled candidate and
// ICE sees no peer-reflexive surprises. Only host candidates on 127.0.0.1 are supported (tests
// gather on loopback only).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ifmesh::test {

class UdpRelay {
 public:
  UdpRelay() {
    aFace_ = openSocket();
    bFace_ = openSocket();
    thread_ = std::thread([this] { run(); });
  }
  ~UdpRelay() {
    stop_ = true;
    thread_.join();
    ::close(aFace_);
    ::close(bFace_);
  }
  UdpRelay(const UdpRelay&) = delete;
  UdpRelay& operator=(const UdpRelay&) = delete;

  // Rewrites a candidate that side A (or B) trickled, for delivery to the other side. Returns
  // nullopt for a candidate the relay cannot stand in for (drop it). "" (end-of-candidates) passes.
  std::optional<std::string> fromA(const std::string& candidate) {
    return rewrite(candidate, aReal_, aFace_);
  }
  std::optional<std::string> fromB(const std::string& candidate) {
    return rewrite(candidate, bReal_, bFace_);
  }

  // Stops forwarding in both directions: the peers can no longer hear each other.
  void cut() { cut_ = true; }
  // From now on drops every STUN message (first byte 0-3, RFC 7983) both ways, DTLS passes: the
  // ICE consent checks and keepalives of a congested link, lost while the data gets through.
  void dropStun() { dropStun_ = true; }
  // From now on loses datagrams (both directions) as a link whose queue overflows now and then:
  // each datagram starts a loss burst with `probability`, and every datagram within `maxBurst`
  // (a random length up to it) of that one is lost too. Bursts are spans of time, not counts of
  // datagrams: a sender that has backed off is not hit by the same burst seconds later. Seeded,
  // so a failing run can be repeated.
  void setLoss(double probability, std::chrono::microseconds maxBurst, unsigned seed) {
    std::lock_guard lock(mutex_);
    lossProbability_ = probability;
    maxBurst_ = maxBurst;
    random_.seed(seed);
  }
  // Shows every datagram to `inspector` (on the relay's thread, before any loss is drawn);
  // returning true drops it. For tests that look at or aim at particular records.
  using Inspector = std::function<bool(bool toA, const unsigned char* data, std::size_t size)>;
  void inspect(Inspector inspector) {
    std::lock_guard lock(mutex_);
    inspector_ = std::move(inspector);
  }
  std::uint64_t forwarded() const { return forwarded_; }
  std::uint64_t dropped() const { return dropped_; }

 private:
  static int openSocket() {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      throw std::runtime_error("bind failed");
    }
    return fd;
  }
  static std::uint16_t portOf(int fd) {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(addr.sin_port);
  }

  // "candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ..."
  std::optional<std::string> rewrite(const std::string& candidate, std::optional<sockaddr_in>& real,
                                     int face) {
    if (candidate.empty()) return candidate;
    std::istringstream in(candidate);
    std::vector<std::string> f;
    for (std::string word; in >> word;) f.push_back(word);
    if (f.size() < 8 || (f[2] != "udp" && f[2] != "UDP") || f[4] != "127.0.0.1" || f[7] != "host")
      return std::nullopt;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(f[5])));
    {
      std::lock_guard lock(mutex_);
      real = addr;
    }
    f[5] = std::to_string(portOf(face));
    std::string out;
    for (const auto& word : f) out += (out.empty() ? "" : " ") + word;
    return out;
  }

  void run() {
    std::array<pollfd, 2> fds{pollfd{aFace_, POLLIN, 0}, pollfd{bFace_, POLLIN, 0}};
    std::vector<char> buffer(65536);
    while (!stop_) {
      if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if (!(fds[i].revents & POLLIN)) continue;
        ssize_t n = ::recv(fds[i].fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n < 0) continue;
        // Into aFace comes B's traffic for A: it leaves from bFace, and the other way round.
        bool toA = fds[i].fd == aFace_;
        bool stun = n > 0 && static_cast<unsigned char>(buffer[0]) < 4;
        std::optional<sockaddr_in> target;
        bool drop = false;
        {
          std::lock_guard lock(mutex_);
          target = toA ? aReal_ : bReal_;
          drop =
              cut_ || !target || (stun && dropStun_) ||
              (inspector_ && inspector_(toA, reinterpret_cast<const unsigned char*>(buffer.data()),
                                        static_cast<std::size_t>(n))) ||
              lose();
        }
        if (drop) {
          ++dropped_;
          continue;
        }
        ::sendto(toA ? bFace_ : aFace_, buffer.data(), static_cast<std::size_t>(n), 0,
                 reinterpret_cast<const sockaddr*>(&*target), sizeof *target);
        ++forwarded_;
      }
    }
  }

  // Called with mutex_ held.
  bool lose() {
    auto now = std::chrono::steady_clock::now();
    if (now < burstEnd_) return true;
    if (lossProbability_ <= 0 ||
        std::uniform_real_distribution<>(0, 1)(random_) >= lossProbability_)
      return false;
    burstEnd_ = now + std::chrono::microseconds(std::uniform_int_distribution<std::int64_t>(
                          0, maxBurst_.count())(random_));
    return true;
  }

  int aFace_ = -1;
  int bFace_ = -1;
  std::mutex mutex_;
  std::optional<sockaddr_in> aReal_, bReal_;
  Inspector inspector_;
  double lossProbability_ = 0;
  std::chrono::microseconds maxBurst_{0};
  std::chrono::steady_clock::time_point burstEnd_;
  std::minstd_rand random_;
  std::atomic<bool> cut_{false};
  std::atomic<bool> dropStun_{false};
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> forwarded_{0}, dropped_{0};
  std::thread thread_;
};

}  // namespace ifmesh::test
