#include "bench/durable_scenario.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "bench/clocks.hpp"
#include "ifmesh/agent.hpp"
#include "ifmesh/signaling.hpp"

namespace ifmesh::bench {

namespace {

using Clock = std::chrono::steady_clock;

struct ModeResult {
  std::string mode;
  LatencySummary rttUs;
  std::vector<double> rttSamplesUs;
  double msgsPerS = 0;
  double syncsPerMessage = 0, commitsPerMessage = 0;
};

template <typename Pred>
bool waitUntil(Pred pred, std::chrono::seconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// One mode: `stateParent` empty for no store.
ModeResult runMode(const std::string& mode, const std::string& stateParent,
                   const DurableOptions& o) {
  ModeResult result;
  result.mode = mode;
  namespace fs = std::filesystem;
  fs::path dir;
  if (!stateParent.empty()) {
    dir = fs::path(stateParent) / ("ifmesh-bench-durable-" + std::to_string(::getpid()));
    fs::remove_all(dir);
  }
  {
    signaling::ServerConfig sc;
    sc.port = 0;
    signaling::Server server(sc);
    server.start();
    auto config = [&](const std::string& id) {
      AgentConfig c;
      c.agentId = id;
      c.signalingUrl = "ws://127.0.0.1:" + std::to_string(server.port());
      c.localAddresses = {"127.0.0.1"};
      c.identity.messageSignatures = MessageSignatures::Relayed;
      c.bandwidth.queue.maxMessages = o.messages + 1000;
      c.bandwidth.queue.maxBytes = (o.messages + 1000) * (o.messageBytes + 512);
      if (!dir.empty()) c.state.directory = (dir / id).string();
      return c;
    };
    Agent a(config("durable-a")), b(config("durable-b"));
    std::atomic<std::uint64_t> received{0}, pongs{0};
    b.onMessage([&](const IFMessage& m) {
      if (m.payload.contains("ping")) {
        IFMessage pong;
        pong.payload = {{"pong", m.payload["ping"]}};
        b.send(m.source, pong);  // on b's I/O thread: leaves once durable
        return;
      }
      ++received;
    });
    a.onMessage([&](const IFMessage&) { ++pongs; });
    a.connectToSignaling();
    b.connectToSignaling();
    if (!a.waitRegistered(std::chrono::seconds(10)) || !b.waitRegistered(std::chrono::seconds(10)))
      throw std::runtime_error("durable: agents did not register");
    a.connect("durable-b");
    if (!waitUntil([&] { return !a.peers().empty(); }, std::chrono::seconds(20)))
      throw std::runtime_error("durable: no link");

    // Echo round trips, one at a time; send() returns once the ping is durable.
    for (std::size_t i = 0; i < o.roundTrips + 50; ++i) {
      auto before = pongs.load();
      auto t0 = Clock::now();
      IFMessage ping;
      ping.payload = {{"ping", i}};
      a.send("durable-b", ping);
      if (!waitUntil([&] { return pongs.load() > before; }, std::chrono::seconds(10)))
        throw std::runtime_error("durable: echo timed out");
      if (i >= 50)  // the first ones warm up
        result.rttSamplesUs.push_back(
            std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    result.rttUs = summarize(result.rttSamplesUs);

    // One-way rate: every message accepted on a's I/O thread in batches (many share one
    // commit), counted when b has them all.
    const std::string body(o.messageBytes, 'x');
    auto commits0 = a.stateCommits() + b.stateCommits();
    auto syncs0 = a.stateSyncs() + b.stateSyncs();
    auto t0 = Clock::now();
    constexpr std::size_t kBatch = 500;
    for (std::size_t sent = 0; sent < o.messages; sent += kBatch) {
      std::size_t n = std::min(kBatch, o.messages - sent);
      a.post([&a, &body, n] {
        for (std::size_t i = 0; i < n; ++i) {
          IFMessage m;
          m.payload = {{"d", body}};
          a.sendAsync("durable-b", std::move(m));
        }
      });
    }
    if (!waitUntil([&] { return received.load() >= o.messages; }, std::chrono::seconds(120)))
      throw std::runtime_error("durable: messages not all delivered");
    double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    result.msgsPerS = static_cast<double>(o.messages) / seconds;
    result.commitsPerMessage =
        static_cast<double>(a.stateCommits() + b.stateCommits() - commits0) / o.messages;
    result.syncsPerMessage =
        static_cast<double>(a.stateSyncs() + b.stateSyncs() - syncs0) / o.messages;
  }
  std::error_code ec;
  if (!dir.empty()) fs::remove_all(dir, ec);
  return result;
}

}  // namespace

ScenarioResult runDurableScenario(const DurableOptions& o) {
  ScenarioResult r;
  r.scenario = "durable";
  r.title = "Durable delivery: 2 agents, state store on disk and on tmpfs vs in memory";
  std::vector<ModeResult> modes;
  modes.push_back(runMode("memory", "", o));
  modes.push_back(runMode("disk", o.diskDirectory, o));
  if (std::filesystem::is_directory(o.tmpfsDirectory))
    modes.push_back(runMode("tmpfs", o.tmpfsDirectory, o));
  const ModeResult& memory = modes[0];
  const ModeResult& disk = modes[1];
  // The headline figures are the disk's; the in-memory run of the same process is the
  // reference (not a UDP floor), reported per mode.
  r.rttUs = disk.rttUs;
  r.rttSamplesUs = disk.rttSamplesUs;
  nlohmann::json perMode = nlohmann::json::object();
  for (const auto& m : modes) {
    perMode[m.mode] = {{"rtt_us", toJson(m.rttUs)},
                       {"msgs_per_s", m.msgsPerS},
                       {"commits_per_message", m.commitsPerMessage},
                       {"fdatasyncs_per_message", m.syncsPerMessage}};
    char line[200];
    std::snprintf(line, sizeof line,
                  "%-6s echo RTT p50 %.3f ms p99 %.3f ms | %.0f msgs/s of %zu B one way | "
                  "%.5f commits, %.5f fdatasyncs per message",
                  m.mode.c_str(), m.rttUs.p50 / 1000.0, m.rttUs.p99 / 1000.0, m.msgsPerS,
                  o.messageBytes, m.commitsPerMessage, m.syncsPerMessage);
    r.notes.push_back(line);
  }
  r.extra["modes"] = perMode;
  r.extra["message_bytes"] = o.messageBytes;
  r.extra["disk_directory"] = o.diskDirectory;
  r.targets.push_back({"durable msgs/s on disk (group commit)", 50000, disk.msgsPerS, "msgs/s",
                       false, "in memory " + std::to_string(static_cast<long>(memory.msgsPerS))});
  r.targets.push_back({"durable RTT p50 <= 3x in-memory", 3.0,
                       ratio(disk.rttUs.p50, memory.rttUs.p50), "x in-memory", true,
                       "in memory p50 " + std::to_string(memory.rttUs.p50 / 1000.0) + " ms"});
  return r;
}

}  // namespace ifmesh::bench
