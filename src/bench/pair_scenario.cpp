#include "bench/pair_scenario.hpp"

#include <atomic>
#include <future>
#include <stdexcept>
#include <thread>

#include "bench/backpressured_send.hpp"
#include "bench/connection_report.hpp"
#include "bench/direct_pair.hpp"
#include "bench/udp_floor.hpp"

namespace ifmesh::bench {

namespace {

using Clock = std::chrono::steady_clock;

struct EchoResult {
  std::vector<double> rttUs;
  double roundTripsPerS = 0;
};

// Ping-pong driven from the I/O thread: each echo's arrival sends the next ping, as an agent
// answering in its message callback would. One message outstanding at a time.
EchoResult measureEcho(DirectPair& pair, const PairOptions& o) {
  DataChannel& remote = pair.remote();
  remote.onMessage([&remote](Message&& m) { remote.send(std::get<Binary>(m)); });
  std::size_t total = o.warmup + o.samples;
  EchoResult result;
  result.rttUs.reserve(o.samples);
  std::promise<void> done;
  std::size_t count = 0;
  Clock::time_point sentAt, firstTimed;
  Binary ping(o.echoPayload, std::byte{0x2a});
  DataChannel& local = pair.local();
  local.onMessage([&](Message&&) {
    auto now = Clock::now();
    if (count >= o.warmup)
      result.rttUs.push_back(std::chrono::duration<double, std::micro>(now - sentAt).count());
    if (++count == o.warmup) firstTimed = now;
    if (count == total) {
      result.roundTripsPerS =
          static_cast<double>(o.samples) / std::chrono::duration<double>(now - firstTimed).count();
      done.set_value();
      return;
    }
    if (o.progress && count % 1000 == 0) o.progress("echo", static_cast<double>(count) / total);
    sentAt = Clock::now();
    local.send(ping);
  });
  sentAt = Clock::now();
  local.send(ping);
  if (done.get_future().wait_for(std::chrono::seconds(120)) != std::future_status::ready)
    throw std::runtime_error("echo stalled after " + std::to_string(count) + " round trips");
  local.onMessage(nullptr);
  remote.onMessage(nullptr);
  return result;
}

struct BulkResult {
  double mbitPerS = 0;
  double msgsPerS = 0;
};

// Sends as fast as backpressure allows: above 4 MiB buffered the sender waits for the
// bufferedAmountLow event (1 MiB). The clock stops when the receiver has everything.
BulkResult measureBulk(DirectPair& pair, std::size_t messageSize,
                       std::chrono::milliseconds duration, const PairOptions& o,
                       const char* phase) {
  DataChannel& local = pair.local();
  std::atomic<std::uint64_t> receivedBytes{0}, receivedMsgs{0};
  pair.remote().onMessage([&](Message&& m) {
    receivedBytes += std::get<Binary>(m).size();
    ++receivedMsgs;
  });
  const auto start = Clock::now();
  const std::uint64_t sentMsgs = sendUnderBackpressure(
      local, Binary(messageSize, std::byte{0x55}), duration, {}, [&](std::uint64_t sent) {
        if (o.progress && sent % 4096 == 0)
          o.progress(phase, std::chrono::duration<double>(Clock::now() - start) / duration);
      });
  const std::uint64_t sentBytes = sentMsgs * messageSize;
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (receivedBytes.load() < sentBytes) {
    if (!local.isOpen()) deadline = Clock::now();  // the connection gave up: say why now
    if (Clock::now() >= deadline) {
      // Everything a reader of this error needs to tell a dead connection from a stuck queue.
      auto c0 = sctpStackCounters();
      std::this_thread::sleep_for(std::chrono::seconds(3));
      auto c1 = sctpStackCounters();
      std::string counters =
          "; in 3 s the stack sent " + std::to_string(c1.dataChunksSent - c0.dataChunksSent) +
          " DATA (" + std::to_string(c1.dataChunksRetransmitted - c0.dataChunksRetransmitted) +
          " retransmitted), " + std::to_string(c1.sacksSent - c0.sacksSent) + " SACKs, " +
          std::to_string(c1.retransmissionTimeouts - c0.retransmissionTimeouts) + " T3 timeouts, " +
          std::to_string(c1.heartbeatsSent - c0.heartbeatsSent) + " heartbeats";
      throw std::runtime_error(
          std::string(phase) + ": receiver stalled: " + std::to_string(receivedMsgs.load()) +
          " of " + std::to_string(sentMsgs) + " messages arrived; sender buffered " +
          std::to_string(local.bufferedAmount()) + " B; offerer " +
          describeConnection(pair.offerer()) + "; answerer " + describeConnection(pair.answerer()) +
          counters);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  pair.remote().onMessage(nullptr);
  return {static_cast<double>(sentBytes) * 8 / seconds / 1e6,
          static_cast<double>(sentMsgs) / seconds};
}

// New PeerConnection pair to channel open on both sides.
std::vector<double> measureSetup(const PairOptions& o) {
  std::vector<double> ms;
  for (std::size_t i = 0; i < o.setupConnections; ++i) {
    auto start = Clock::now();
    DirectPair pair(o.config, "setup");
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (o.progress) o.progress("setup", static_cast<double>(i + 1) / o.setupConnections);
  }
  return ms;
}

}  // namespace

ScenarioResult runPairScenario(const PairOptions& options) {
  PairOptions o = options;
  if (o.config.localAddresses.empty()) o.config.localAddresses = {"127.0.0.1"};
  ScenarioResult r;
  r.scenario = o.scenario;
  r.title = o.title;

  r.setupMs = summarize(measureSetup(o));
  {
    DirectPair pair(o.config, "bench");
    // The echo and the UDP floor alternate in blocks, so that both see the same CPU frequency
    // and idle states: measured one after the other, the floor's p50 swung between 10 and 64 us
    // from run to run while the echo stayed put, and the ratio with it.
    constexpr std::size_t kBlocks = 10;
    constexpr std::size_t kBlockWarmup = 20;  // wakes both paths after the other one ran
    std::size_t done = 0;
    double echoSeconds = 0;
    std::vector<double> floorUs;
    for (std::size_t b = 0; b < kBlocks && done < o.samples; ++b) {
      PairOptions block = o;
      block.samples = b + 1 == kBlocks ? o.samples - done : o.samples / kBlocks;
      block.warmup = b == 0 ? o.warmup : kBlockWarmup;
      block.progress = nullptr;  // progress is reported per block below, not from 0 in each
      if (block.samples == 0) continue;
      auto echo = measureEcho(pair, block);
      r.rttSamplesUs.insert(r.rttSamplesUs.end(), echo.rttUs.begin(), echo.rttUs.end());
      echoSeconds += static_cast<double>(block.samples) / echo.roundTripsPerS;
      auto floor = measureUdpFloorSamples(o.echoPayload, block.warmup, block.samples);
      floorUs.insert(floorUs.end(), floor.begin(), floor.end());
      done += block.samples;
      if (o.progress) o.progress("echo and udp floor", static_cast<double>(done) / o.samples);
    }
    r.rttUs = summarize(r.rttSamplesUs);
    r.echoRoundTripsPerS = echoSeconds > 0 ? static_cast<double>(done) / echoSeconds : 0;
    r.floorUs = summarize(floorUs);
    r.floorSamples.push_back({"UDP floor (direct)", std::move(floorUs)});
    auto bulk = measureBulk(pair, o.bulkMessageSize, o.bulkDuration, o, "bulk");
    r.bulkMbitPerS = bulk.mbitPerS;
    r.bulkMsgsPerS = bulk.msgsPerS;
    r.smallMsgsPerS = measureBulk(pair, o.smallMessageSize, o.smallDuration, o, "small").msgsPerS;
    auto stats = pair.offerer().stats();
    if (stats.selectedPair)
      r.extra["selected_pair"] = {{"local_type", stats.selectedPair->localType},
                                  {"remote_type", stats.selectedPair->remoteType}};
  }
  return r;
}

}  // namespace ifmesh::bench
