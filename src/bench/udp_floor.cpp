#include "bench/udp_floor.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "bench/loopback.hpp"

namespace ifmesh::bench {

namespace {

class UdpSocket {
 public:
  UdpSocket() : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket() failed");
    sockaddr_in a = loopbackAddress();
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("bind() failed");
    timeval tv{2, 0};  // a lost datagram ends the run instead of hanging it
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~UdpSocket() { ::close(fd_); }
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  std::uint16_t port() const {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
  }
  void connectTo(std::uint16_t port) {
    sockaddr_in a = loopbackAddress(port);
    ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  bool send(const std::vector<char>& b) { return ::send(fd_, b.data(), b.size(), 0) >= 0; }
  bool recv(std::vector<char>& b) { return ::recv(fd_, b.data(), b.size(), 0) >= 0; }

 private:
  int fd_;
};

// The two ends on two different cores when there are two, as the two peers of the DataChannel
// echo are (each on its own I/O thread): left to the scheduler, the two threads sometimes shared
// a core and the floor dropped from ~60 to ~10 us, a different quantity. The cores are the first
// two this process may run on (it may be confined by taskset or a cgroup).
std::vector<int> twoAllowedCpus() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return {};
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE && cpus.size() < 2; ++cpu)
    if (CPU_ISSET(cpu, &allowed)) cpus.push_back(cpu);
  return cpus.size() == 2 ? cpus : std::vector<int>{};
}

void pinToCpu(const std::vector<int>& cpus, std::size_t which) {
  if (which >= cpus.size()) return;  // fewer than two cores: the scheduler decides
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpus[which], &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

}  // namespace

std::vector<double> measureUdpFloorSamples(std::size_t payload, std::size_t warmup,
                                           std::size_t samples) {
  UdpSocket client, server;
  client.connectTo(server.port());
  server.connectTo(client.port());
  std::size_t total = warmup + samples;
  const std::vector<int> cpus = twoAllowedCpus();
  std::thread echo([&] {
    pinToCpu(cpus, 1);
    std::vector<char> buf(payload);
    for (std::size_t i = 0; i < total; ++i) {
      if (!server.recv(buf) || !server.send(buf)) return;
    }
  });
  std::vector<double> rtts;
  bool ok = true;
  std::thread ping([&] {
    pinToCpu(cpus, 0);
    std::vector<char> buf(payload, 'x');
    rtts.reserve(samples);
    for (std::size_t i = 0; i < total && ok; ++i) {
      auto start = std::chrono::steady_clock::now();
      ok = client.send(buf) && client.recv(buf);
      auto us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start);
      if (i >= warmup) rtts.push_back(us.count());
    }
  });
  ping.join();
  echo.join();
  if (!ok) throw std::runtime_error("UDP floor: a datagram was lost on loopback");
  return rtts;
}

LatencySummary measureUdpFloor(std::size_t payload, std::size_t warmup, std::size_t samples) {
  return summarize(measureUdpFloorSamples(payload, warmup, samples));
}

}  // namespace ifmesh::bench
