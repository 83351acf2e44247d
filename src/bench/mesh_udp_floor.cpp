#include "bench/mesh_udp_floor.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <latch>
#include <stdexcept>
#include <string>
#include <thread>

#include "bench/clocks.hpp"
#include "bench/loopback.hpp"
#include "bench/unique_fd.hpp"

namespace ifmesh::bench {

namespace {

using Clock = std::chrono::steady_clock;

constexpr char kPing = 'p';
constexpr char kPong = 'P';
constexpr std::size_t kHeader = 1 + sizeof(std::int64_t);  // kind, send time in ns

UniqueFd boundSocket() {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0)
    throw std::runtime_error(std::string("mesh UDP floor: socket() failed: ") +
                             std::strerror(errno));
  sockaddr_in a = loopbackAddress();
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    throw std::runtime_error(std::string("mesh UDP floor: bind() failed: ") + std::strerror(errno));
  return fd;
}

void connectPair(int a, int b) {
  for (auto [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    ::getsockname(to, reinterpret_cast<sockaddr*>(&addr), &len);
    if (::connect(from, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error(std::string("mesh UDP floor: connect() failed: ") +
                               std::strerror(errno));
  }
}

struct Endpoint {
  UniqueFd socket;
  std::size_t agent;
};

// Touched only by the thread that serves the agent.
struct AgentTraffic {
  std::vector<std::size_t> endpoints;
  std::size_t next = 0;
};

struct Worker {
  UniqueFd epoll;
  std::vector<std::size_t> agents;
  std::vector<double> rttUs;  // one per round trip counted
  std::uint64_t sendErrors = 0;
};

}  // namespace

MeshFloorResult measureMeshUdpFloor(const MeshFloorOptions& o) {
  const std::size_t threads = std::max<std::size_t>(o.threads, 1);
  const std::size_t payload = std::max(o.payload, kHeader);
  if (!o.threadOf.empty() && o.threadOf.size() != o.agents)
    throw std::invalid_argument("mesh UDP floor: threadOf must name a thread for every agent");

  std::vector<Endpoint> ends;
  ends.reserve(o.links.size() * 2);
  std::vector<AgentTraffic> agents(o.agents);
  for (auto [a, b] : o.links) {
    if (a >= o.agents || b >= o.agents || a == b)
      throw std::invalid_argument("mesh UDP floor: link " + std::to_string(a) + "-" +
                                  std::to_string(b) + " does not join two of the " +
                                  std::to_string(o.agents) + " agents");
    UniqueFd sa = boundSocket(), sb = boundSocket();
    connectPair(sa.get(), sb.get());
    agents[a].endpoints.push_back(ends.size());
    ends.push_back({std::move(sa), a});
    agents[b].endpoints.push_back(ends.size());
    ends.push_back({std::move(sb), b});
  }

  std::vector<Worker> workers(threads);
  for (auto& w : workers) {
    w.epoll = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
    if (w.epoll.get() < 0) throw std::runtime_error("mesh UDP floor: epoll_create1() failed");
  }
  auto threadOf = [&](std::size_t agent) {
    return (o.threadOf.empty() ? agent : o.threadOf[agent]) % threads;
  };
  for (std::size_t i = 0; i < o.agents; ++i) workers[threadOf(i)].agents.push_back(i);
  for (std::size_t e = 0; e < ends.size(); ++e) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = e;
    if (::epoll_ctl(workers[threadOf(ends[e].agent)].epoll.get(), EPOLL_CTL_ADD,
                    ends[e].socket.get(), &ev) != 0)
      throw std::runtime_error("mesh UDP floor: epoll_ctl() failed");
  }

  std::atomic<bool> counting{true}, stop{false};
  std::latch ready(static_cast<std::ptrdiff_t>(threads) + 1);
  auto serve = [&](Worker& w) {
    std::vector<char> out(payload, 'x'), in(payload + 64);
    auto sendKind = [&](int fd, char kind, std::int64_t stamp) {
      out[0] = kind;
      std::memcpy(out.data() + 1, &stamp, sizeof stamp);
      if (::send(fd, out.data(), out.size(), 0) < 0) ++w.sendErrors;
    };
    auto sendPing = [&](AgentTraffic& a) {
      if (a.endpoints.empty()) return;
      sendKind(ends[a.endpoints[a.next++ % a.endpoints.size()]].socket.get(), kPing, steadyNowNs());
    };
    ready.arrive_and_wait();
    for (std::size_t i : w.agents)
      for (std::size_t k = 0; k < std::min(o.window, agents[i].endpoints.size()); ++k)
        sendPing(agents[i]);
    epoll_event events[256];
    while (!stop.load(std::memory_order_relaxed)) {
      int n = ::epoll_wait(w.epoll.get(), events, 256, 10);
      for (int i = 0; i < n; ++i) {
        const Endpoint& end = ends[events[i].data.u64];
        for (;;) {
          ssize_t got = ::recv(end.socket.get(), in.data(), in.size(), MSG_DONTWAIT);
          if (got < 0) break;  // drained (EAGAIN) or a refused send's ICMP: the next event
          if (static_cast<std::size_t>(got) < kHeader) continue;
          std::int64_t stamp;
          std::memcpy(&stamp, in.data() + 1, sizeof stamp);
          if (in[0] == kPing) {
            sendKind(end.socket.get(), kPong, stamp);
          } else if (counting.load(std::memory_order_relaxed)) {
            w.rttUs.push_back(static_cast<double>(steadyNowNs() - stamp) / 1000.0);
            sendPing(agents[end.agent]);
          }
        }
      }
    }
  };

  std::vector<std::thread> running;
  for (auto& w : workers) running.emplace_back(serve, std::ref(w));
  double cpuBefore = processCpuUs();
  auto start = Clock::now();
  ready.arrive_and_wait();
  std::this_thread::sleep_for(o.duration);
  counting = false;
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  double cpuUs = processCpuUs() - cpuBefore;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the last pongs land unanswered
  stop = true;
  for (auto& t : running) t.join();

  MeshFloorResult r;
  for (auto& w : workers) {
    r.sendErrors += w.sendErrors;
    r.rttUs.insert(r.rttUs.end(), w.rttUs.begin(), w.rttUs.end());
  }
  const auto trips = static_cast<double>(r.rttUs.size());
  r.roundTripsPerS = seconds > 0 ? trips / seconds : 0;
  r.cpuUsPerRoundTrip = trips > 0 ? cpuUs / trips : 0;
  return r;
}

}  // namespace ifmesh::bench
