#include "bench/mesh_scenario.hpp"

#include <dirent.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "bench/clocks.hpp"
#include "bench/mesh_udp_floor.hpp"
#include "bench/released_memory.hpp"
#include "ifmesh/rtc/peer_connection.hpp"
#include "ifmesh/signaling.hpp"

namespace ifmesh::bench {

namespace {

using Clock = std::chrono::steady_clock;

// On libnice each connection end holds a UDP socket, and every two ends share one GLib context's
// eventfd (rtc/context_driver.hpp): a 100-agent mesh needs ~15,000 descriptors against a usual
// 20,000 limit. On the shared sockets an agent holds a few (its signaling connection, both ends
// of it in this process). Raising the hard limit needs CAP_SYS_RESOURCE; without it we keep what
// we have.
void raiseFileLimit(std::size_t wanted) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_max < wanted) {
    rlimit raised{wanted, wanted};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return;
  }
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

std::size_t descriptorsFor(std::size_t connections, std::size_t agents, bool sharedIceSocket) {
  if (sharedIceSocket) return agents * 4 + 1024;
  return connections * 3 + 1024;  // 2 sockets + 1 eventfd per connection, signaling, slack
}

// The UDP floor's sockets: one per connection end, beside the process's own.
std::size_t floorDescriptorsFor(std::size_t connections) {
  return connections * 2 + 1024;
}

// What one echo round trip cost the SCTP stack over the traffic phase (the 32-bit counters
// wrap, hence the unsigned differences). Packets are what a mesh pays for: each is a trip
// through libnice, DTLS and usrsctp on a connection whose state is cold in cache.
nlohmann::json sctpPerRoundTrip(const SctpStackCounters& before, const SctpStackCounters& after,
                                std::uint64_t trips) {
  auto per = [trips](std::uint32_t from, std::uint32_t to) {
    return trips ? static_cast<double>(static_cast<std::uint32_t>(to - from)) / trips : 0.0;
  };
  return {
      {"data_chunks", per(before.dataChunksSent, after.dataChunksSent)},
      {"retransmitted_chunks", per(before.dataChunksRetransmitted, after.dataChunksRetransmitted)},
      {"sacks", per(before.sacksSent, after.sacksSent)},
      {"delayed_sacks", per(before.delayedSackTimeouts, after.delayedSackTimeouts)},
      {"retransmission_timeouts", per(before.retransmissionTimeouts, after.retransmissionTimeouts)},
      {"heartbeats", per(before.heartbeatsSent, after.heartbeatsSent)}};
}

// CPU time this process used (all threads, user + system) and the machine's time counters.
// Round trips/s depend on the share of the cores the process got; CPU per round trip is the cost
// of the work itself, and steal time (where the VM reports it) shows a neighbour's load.
struct CpuSample {
  double processUs = 0;
  double stealTicks = 0;
  double machineTicks = 0;  // all states, all CPUs
};

CpuSample sampleCpu() {
  CpuSample c;
  c.processUs = processCpuUs();
  std::ifstream stat("/proc/stat");
  std::string cpu;
  stat >> cpu;
  for (int field = 0; field < 10 && stat; ++field) {
    double ticks = 0;
    stat >> ticks;
    c.machineTicks += ticks;
    if (field == 7) c.stealTicks = ticks;  // user nice system idle iowait irq softirq *steal*
  }
  return c;
}

const char* topologyName(Topology t) {
  switch (t) {
    case Topology::FullMesh:
      return "full mesh";
    case Topology::HubAndSpoke:
      return "hub and spoke";
    case Topology::PartialMesh:
      return "partial mesh";
    case Topology::Manual:
      return "manual";
  }
  return "other";
}

}  // namespace

double rssPerConnection(std::size_t rssBefore, std::size_t rssEstablished,
                        std::size_t connections) {
  if (connections == 0) return 0;
  // Signed: the allocator may return more memory to the system between the two samples than
  // the connections took (hub100's 99 links are small beside its 100 agents), and an unsigned
  // difference would then wrap to ~2^64.
  return (static_cast<double>(rssEstablished) - static_cast<double>(rssBefore)) /
         static_cast<double>(connections);
}

std::optional<std::string> descriptorShortfall(std::size_t connections, std::size_t agents,
                                               bool sharedIceSocket) {
  std::size_t wanted = descriptorsFor(connections, agents, sharedIceSocket);
  raiseFileLimit(wanted);
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur >= wanted) return std::nullopt;
  return std::to_string(connections) + " connections need about " + std::to_string(wanted) +
         " file descriptors; the limit here is " + std::to_string(limit.rlim_cur) +
         " (raise it with ulimit -n)";
}

std::size_t residentBytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

// Entries of a /proc/self directory: threads (task) or open file descriptors (fd).
std::size_t procEntries(const char* path) {
  std::size_t n = 0;
  if (DIR* dir = opendir(path)) {
    while (dirent* e = readdir(dir))
      if (e->d_name[0] != '.') ++n;
    closedir(dir);
  }
  return n;
}

std::size_t threadCount() {
  return procEntries("/proc/self/task");
}

// Less the one opendir holds while counting.
std::size_t descriptorCount() {
  return procEntries("/proc/self/fd") - 1;
}

ScenarioResult runMeshScenario(const MeshOptions& o) {
  std::size_t plannedConnections = o.topology == Topology::FullMesh
                                       ? o.agents * (o.agents - 1) / 2
                                       : o.agents * std::max<std::size_t>(o.k, 1);
  if (auto shortfall = descriptorShortfall(plannedConnections, o.agents, o.sharedIceSocket))
    throw std::runtime_error(*shortfall);
  ScenarioResult r;
  r.scenario = o.scenario;
  r.title = o.title.empty() ? std::to_string(o.agents) + "-Agent Mesh" : o.title;

  signaling::ServerConfig sc;
  sc.port = 0;
  sc.maxMessagesPerSecond = 1000000;  // the benchmark itself is the flood
  signaling::Server server(sc);
  server.start();
  releaseFreedMemory();
  std::size_t rssBefore = residentBytes();
  std::size_t threadsBefore = threadCount();
  std::size_t descriptorsBefore = descriptorCount();

  std::vector<std::unique_ptr<Agent>> agents;
  std::atomic<bool> running{false};
  std::atomic<std::uint64_t> roundTrips{0};
  // Per-agent traffic state, touched only on that agent's I/O thread.
  struct Traffic {
    std::vector<std::string> peers;
    std::size_t next = 0;
    std::vector<double> rtts;
    std::thread::id thread;  // the agent's I/O thread, for the floor's thread of its sockets
  };
  std::vector<Traffic> traffic(o.agents);
  auto start = Clock::now();
  for (std::size_t i = 0; i < o.agents; ++i) {
    AgentConfig c;
    char id[32];
    std::snprintf(id, sizeof id, "agent-%03zu", i);
    c.agentId = id;
    c.signalingUrl = "ws://127.0.0.1:" + std::to_string(server.port());
    c.localAddresses = {"127.0.0.1"};
    c.sharedIceSocket = o.sharedIceSocket;
    c.topology = o.topology;
    c.partialMeshK = o.k;
    c.hubId = "agent-000";
    c.healing.attemptTimeout = std::chrono::seconds(30);
    c.identity.messageSignatures = o.messageSignatures;
    agents.push_back(std::make_unique<Agent>(c));
  }
  auto sendPing = [&](Agent& self, Traffic& t) {
    if (t.peers.empty()) return;
    IFMessage ping;
    ping.payload = {{"ping", steadyNowNs()}};
    self.send(t.peers[t.next++ % t.peers.size()], ping);
  };
  // Echo: a ping comes back as a pong; a pong's arrival sends the agent's next ping.
  for (std::size_t i = 0; i < o.agents; ++i) {
    Agent* self = agents[i].get();
    Traffic* t = &traffic[i];
    self->onMessage([&, self, t](const IFMessage& m) {
      if (m.payload.contains("ping")) {
        IFMessage pong;
        pong.payload = {{"pong", m.payload["ping"]}};
        self->send(m.source, pong);
        return;
      }
      if (!m.payload.contains("pong")) return;
      t->rtts.push_back(static_cast<double>(steadyNowNs() - m.payload["pong"].get<std::int64_t>()) /
                        1000.0);
      ++roundTrips;
      if (running) sendPing(*self, *t);
    });
  }
  for (auto& agent : agents) agent->connectToSignaling();

  // Wait until every agent has all the links its topology asks for.
  std::size_t expectedLinks = 0;
  for (std::size_t i = 0; i < o.agents; ++i) {
    switch (o.topology) {
      case Topology::FullMesh:
        expectedLinks += o.agents - 1;
        break;
      case Topology::HubAndSpoke:
        expectedLinks += i == 0 ? o.agents - 1 : 1;
        break;
      default:
        expectedLinks += 0;
        break;
    }
  }
  auto deadline = start + o.establishTimeout;
  // Why a mesh did not form: every agent's view of every peer, counted by state. One task per
  // agent (its queries then run inline), since a saturated loop answers each query slowly.
  auto stateSummary = [&] {
    std::map<std::string, std::size_t> states;
    std::vector<std::future<std::vector<PeerState>>> views;
    for (auto& a : agents) {
      auto promise = std::make_shared<std::promise<std::vector<PeerState>>>();
      views.push_back(promise->get_future());
      a->post([&, self = a.get(), promise] {
        std::vector<PeerState> seen;
        for (auto& b : agents)
          if (b.get() != self)
            if (auto st = self->peerState(b->id())) seen.push_back(*st);
        promise->set_value(std::move(seen));
      });
    }
    for (auto& v : views)
      if (v.wait_for(std::chrono::seconds(10)) == std::future_status::ready)
        for (auto st : v.get()) ++states[toString(st)];
    std::string out;
    for (auto& [name, n] : states)
      out += (out.empty() ? "" : ", ") + name + " " + std::to_string(n);
    return out.empty() ? std::string("no links") : out;
  };
  std::size_t links = 0;
  for (;;) {
    links = 0;
    for (auto& a : agents) links += a->peers().size();
    if (o.progress) o.progress("establishing", expectedLinks ? double(links) / expectedLinks : 1);
    if (links >= expectedLinks && expectedLinks > 0) break;
    if (Clock::now() > deadline)
      throw std::runtime_error(
          "mesh not established within the deadline: " + std::to_string(links / 2) + " of " +
          std::to_string(expectedLinks / 2) +
          " connections up; link ends by state: " + stateSummary());
    if (o.topology == Topology::PartialMesh && links > 0) {
      // Partial mesh: stable once the link count stops growing for a moment.
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      std::size_t again = 0;
      for (auto& a : agents) again += a->peers().size();
      if (again == links) break;
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  double establishMs = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  std::size_t connections = links / 2;
  std::size_t rssEstablished = residentBytes();
  std::size_t threads = threadCount();
  std::size_t descriptors = descriptorCount();

  // All-pairs traffic: each agent starts its window on its own I/O thread.
  auto trafficStart = Clock::now();
  SctpStackCounters sctpBefore = sctpStackCounters();
  CpuSample cpuBefore = sampleCpu();
  running = true;
  for (std::size_t i = 0; i < o.agents; ++i) {
    Agent* self = agents[i].get();
    Traffic* t = &traffic[i];
    self->post([&, self, t] {
      t->peers = self->peers();
      t->thread = std::this_thread::get_id();
      std::size_t window =
          o.topology == Topology::FullMesh ? std::min(o.window, t->peers.size()) : o.window;
      for (std::size_t w = 0; w < window; ++w) sendPing(*self, *t);
    });
  }
  while (Clock::now() - trafficStart < o.duration) {
    if (o.progress) o.progress("all-pairs echo", (Clock::now() - trafficStart) / o.duration);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  running = false;
  double seconds = std::chrono::duration<double>(Clock::now() - trafficStart).count();
  std::uint64_t trips = roundTrips.load();
  SctpStackCounters sctpAfter = sctpStackCounters();
  CpuSample cpuAfter = sampleCpu();
  double cpuUsPerTrip = trips ? (cpuAfter.processUs - cpuBefore.processUs) / double(trips) : 0;
  double machineTicks = cpuAfter.machineTicks - cpuBefore.machineTicks;
  double stealPercent =
      machineTicks > 0 ? 100.0 * (cpuAfter.stealTicks - cpuBefore.stealTicks) / machineTicks : 0;
  std::size_t rssPeak = residentBytes();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let in-flight pings land
  // Stop traffic on each agent's thread before reading what it recorded.
  for (auto& agent : agents) agent->onMessage(nullptr);
  for (std::size_t i = 0; i < o.agents; ++i) {
    std::promise<void> done;
    agents[i]->post([&] { done.set_value(); });
    done.get_future().wait();
    r.rttSamplesUs.insert(r.rttSamplesUs.end(), traffic[i].rtts.begin(), traffic[i].rtts.end());
  }
  std::size_t inFlight = 0;
  for (const auto& t : traffic)
    inFlight += o.topology == Topology::FullMesh ? std::min(o.window, t.peers.size()) : o.window;
  // The floor's traffic, taken before teardown: the links this mesh formed, each agent's sockets
  // on the thread that served its connections, datagrams the size of a ping as JSON.
  MeshFloorOptions floor;
  floor.agents = o.agents;
  floor.window = o.window;
  floor.duration = o.floorDuration;
  {
    std::map<std::string, std::size_t> indexOf;
    for (std::size_t i = 0; i < o.agents; ++i) indexOf[agents[i]->id()] = i;
    std::map<std::thread::id, std::size_t> threadIndex;
    for (std::size_t i = 0; i < o.agents; ++i) {
      floor.threadOf.push_back(
          threadIndex.emplace(traffic[i].thread, threadIndex.size()).first->second);
      for (const auto& peer : traffic[i].peers)
        if (auto j = indexOf.find(peer); j != indexOf.end() && j->second > i)
          floor.links.emplace_back(i, j->second);
    }
    floor.threads = threadIndex.size();
    IFMessage ping;
    ping.id = newMessageId();
    ping.timestamp = "2026-01-01T00:00:00.000Z";
    ping.source = agents[0]->id();
    ping.destination = agents[o.agents > 1 ? 1 : 0]->id();
    ping.payload = {{"ping", steadyNowNs()}};
    floor.payload = serialize(ping).size();
  }
  auto teardownStart = Clock::now();
  agents.clear();
  server.stop();
  double teardownMs =
      std::chrono::duration<double, std::milli>(Clock::now() - teardownStart).count();
  std::optional<MeshFloorResult> floorResult;
  rlimit fileLimit{};
  getrlimit(RLIMIT_NOFILE, &fileLimit);
  if (o.floorDuration.count() > 0 && floorDescriptorsFor(connections) > fileLimit.rlim_cur) {
    r.notes.push_back("UDP floor not measured: its " + std::to_string(connections * 2) +
                      " sockets need about " + std::to_string(floorDescriptorsFor(connections)) +
                      " file descriptors; the limit here is " + std::to_string(fileLimit.rlim_cur) +
                      " (raise it with ulimit -n)");
  } else if (o.floorDuration.count() > 0) {
    if (o.progress) o.progress("udp floor", 0);
    try {  // the mesh's own figures stand without it
      floorResult = measureMeshUdpFloor(floor);
      r.floorUs = summarize(floorResult->rttUs);
      r.floorSamples.push_back({"UDP floor (the same traffic)", floorResult->rttUs});
    } catch (const std::exception& e) {
      r.notes.push_back(std::string("UDP floor not measured: ") + e.what());
    }
  }

  r.rttUs = summarize(r.rttSamplesUs);
  r.echoRoundTripsPerS = static_cast<double>(trips) / seconds;
  r.establishMs = establishMs;
  r.connections = connections;
  r.extra["mesh"] = {
      {"agents", o.agents},
      {"topology", topologyName(o.topology)},
      {"connections", connections},
      {"establish_ms", establishMs},
      {"round_trips_per_s", r.echoRoundTripsPerS},
      {"rss_bytes_before", rssBefore},
      {"rss_bytes_established", rssEstablished},
      {"rss_bytes_peak", rssPeak},
      {"rss_bytes_per_connection", rssPerConnection(rssBefore, rssEstablished, connections)},
      {"threads", threads},
      {"pings_in_flight", inFlight},
      {"window_per_agent", o.window},
      {"teardown_ms", teardownMs},
      {"threads_before", threadsBefore},
      {"descriptors", descriptors},
      {"descriptors_before", descriptorsBefore},
      {"ice", o.sharedIceSocket ? "shared socket per I/O thread" : "libnice"},
      {"sctp_per_round_trip", sctpPerRoundTrip(sctpBefore, sctpAfter, trips)},
      {"cpu_us_per_round_trip", cpuUsPerTrip},
      {"machine_steal_percent", stealPercent}};
  r.notes.push_back(o.messageSignatures == MessageSignatures::Always
                        ? "every message signed (Ed25519)"
                        : "signatures on relayed messages only (MessageSignatures::Relayed; agents "
                          "sign every message by default: --sign-every-message)");
  const auto& sctp = r.extra["mesh"]["sctp_per_round_trip"];
  char perTrip[160];
  std::snprintf(perTrip, sizeof perTrip,
                "per round trip: %.2f SCTP DATA chunks, %.2f SACKs (%.2f alone after the delay), "
                "%.3f retransmitted chunks",
                sctp["data_chunks"].get<double>(), sctp["sacks"].get<double>(),
                sctp["delayed_sacks"].get<double>(), sctp["retransmitted_chunks"].get<double>());
  r.notes.push_back(perTrip);
  char cpu[160];
  std::snprintf(cpu, sizeof cpu,
                "CPU per round trip: %.0f us (process, all threads); the machine's steal time "
                "during the echo: %.1f %%",
                cpuUsPerTrip, stealPercent);
  r.notes.push_back(cpu);
  if (floorResult) {
    double share = 100.0 * ratio(r.echoRoundTripsPerS, floorResult->roundTripsPerS);
    r.extra["mesh"]["udp_floor"] = {{"round_trips_per_s", floorResult->roundTripsPerS},
                                    {"rtt_us", toJson(r.floorUs)},
                                    {"cpu_us_per_round_trip", floorResult->cpuUsPerRoundTrip},
                                    {"payload_bytes", floor.payload},
                                    {"sockets", floor.links.size() * 2},
                                    {"threads", floor.threads},
                                    {"send_errors", floorResult->sendErrors},
                                    {"mesh_share_percent", share}};
    char line[320];
    std::snprintf(line, sizeof line,
                  "UDP floor of this traffic (the same echo over %zu plain UDP sockets, %zu-byte "
                  "datagrams, %zu threads): %.0f round trips/s, p95 %.3f ms, CPU %.0f us per round "
                  "trip; the mesh reached %.1f %% of its round trips/s",
                  floor.links.size() * 2, floor.payload, floor.threads, floorResult->roundTripsPerS,
                  r.floorUs.p95 / 1000, floorResult->cpuUsPerRoundTrip, share);
    r.notes.push_back(line);
    if (floorResult->sendErrors > 0)
      r.notes.push_back("UDP floor: " + std::to_string(floorResult->sendErrors) +
                        " datagrams refused by the kernel (each shrank a window)");
  }
  r.notes.push_back(
      std::to_string(connections) + " connections established in " +
      std::to_string(static_cast<int>(establishMs)) + " ms; RSS " +
      std::to_string(rssPeak / (1024 * 1024)) + " MiB; " + std::to_string(threads) + " threads; " +
      std::to_string(descriptors) + " file descriptors (" + std::to_string(descriptorsBefore) +
      " before); ICE: " + (o.sharedIceSocket ? "one shared UDP socket per I/O thread" : "libnice"));
  return r;
}

}  // namespace ifmesh::bench
