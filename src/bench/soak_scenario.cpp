#include "bench/soak_scenario.hpp"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "bench/backpressured_send.hpp"
#include "bench/connection_report.hpp"
#include "bench/direct_pair.hpp"
#include "bench/stats.hpp"
#include "ifmesh/rtc/peer_connection.hpp"

namespace ifmesh::bench {

namespace {

using Clock = std::chrono::steady_clock;

// This network namespace's UDP counters (/proc/net/snmp): datagrams dropped because a socket's
// receive buffer was full, and sends refused because a socket's send buffer (or the queue behind
// it) was (the datagram is lost: libnice does not queue it).
struct UdpDropCounters {
  std::uint64_t receiveBuffer = 0, sendBuffer = 0;
};

UdpDropCounters udpDropCounters() {
  std::ifstream in("/proc/net/snmp");
  std::string header, values;
  UdpDropCounters c;
  while (std::getline(in, header) && std::getline(in, values)) {
    if (header.rfind("Udp:", 0) != 0) continue;
    std::istringstream names(header), numbers(values);
    std::string name, number;
    while (names >> name && numbers >> number) {
      if (name == "RcvbufErrors") c.receiveBuffer = std::stoull(number);
      if (name == "SndbufErrors") c.sendBuffer = std::stoull(number);
    }
  }
  return c;
}

struct Transfer {
  double seconds = 0;
  double drainMs = 0;  // from the sender's last send until the receiver had everything
  std::uint64_t bytes = 0;
  std::uint64_t messages = 0;
  bool stalled = false;
  bool detected = false;  // the connection itself gave up (it did not sit "connected" for ever)
  std::string stallDetail;
};

// Sends `size`-byte messages from `sender` as fast as backpressure allows for `duration`, then
// waits until `receiver` has them all. A stall: no new message for `stallTimeout` while some are
// outstanding, during the sending or the draining.
Transfer transfer(DirectPair& pair, bool offererSends, std::size_t size,
                  std::chrono::milliseconds duration, std::chrono::milliseconds stallTimeout) {
  DataChannel& sender = offererSends ? pair.local() : pair.remote();
  DataChannel& receiver = offererSends ? pair.remote() : pair.local();
  std::atomic<std::uint64_t> receivedMsgs{0};
  receiver.onMessage([&](Message&&) { receivedMsgs.fetch_add(1, std::memory_order_relaxed); });

  Transfer t;
  std::uint64_t seen = 0;
  auto lastProgress = Clock::now();
  // True when the receiver has made no progress for stallTimeout.
  auto stalled = [&] {
    if (!sender.isOpen() || !receiver.isOpen()) return t.detected = true;  // it gave up
    std::uint64_t now = receivedMsgs.load(std::memory_order_relaxed);
    if (now != seen) {
      seen = now;
      lastProgress = Clock::now();
    }
    return Clock::now() - lastProgress > stallTimeout;
  };
  auto start = Clock::now();
  t.messages = sendUnderBackpressure(sender, Binary(size, std::byte{0x5a}), duration,
                                     [&] { return t.stalled = stalled(); });
  auto sendEnd = Clock::now();
  while (!t.stalled && receivedMsgs.load() < t.messages) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    t.stalled = stalled();
  }
  auto end = Clock::now();
  receiver.onMessage(nullptr);
  t.bytes = receivedMsgs.load() * size;
  t.seconds = std::chrono::duration<double>(end - start).count();
  t.drainMs = std::chrono::duration<double, std::milli>(end - sendEnd).count();
  if (t.stalled) {
    t.stallDetail = std::to_string(receivedMsgs.load()) + " of " + std::to_string(t.messages) +
                    " " + std::to_string(size) + "-byte messages arrived, sender buffered " +
                    std::to_string(sender.bufferedAmount()) + " B; offerer " +
                    describeConnection(pair.offerer()) + "; answerer " +
                    describeConnection(pair.answerer());
  }
  return t;
}

}  // namespace

ScenarioResult runSoakScenario(const SoakOptions& options) {
  SoakOptions o = options;
  if (o.config.localAddresses.empty()) o.config.localAddresses = {"127.0.0.1"};
  ScenarioResult r;
  r.scenario = o.scenario;
  r.title = o.title;

  for (std::size_t i = 0; i < o.setupPairs; ++i) DirectPair setup(o.config, "setup");
  auto pair = std::make_unique<DirectPair>(o.config, "soak");
  std::vector<double> bulkMbit, floodMsgs, drainMs;
  std::size_t stalls = 0, silentStalls = 0, pairs = 1;
  const UdpDropCounters dropsBefore = udpDropCounters();
  const SctpStackCounters sctpBefore = sctpStackCounters();
  for (std::size_t i = 0; i < o.transfers; ++i) {
    bool offererSends = i % 2 == 0;
    for (int phase = 0; phase < 2; ++phase) {
      bool bulk = phase == 0;
      Transfer t = transfer(*pair, offererSends, bulk ? o.bulkMessageSize : o.floodMessageSize,
                            bulk ? o.bulkDuration : o.floodDuration, o.stallTimeout);
      if (t.stalled) {
        ++stalls;
        if (!t.detected) ++silentStalls;
        if (r.notes.size() < 5)
          r.notes.push_back("stall in transfer " + std::to_string(i + 1) + " (" +
                            (bulk ? "bulk" : "small messages") + ", " +
                            (offererSends ? "offerer" : "answerer") +
                            " sending): " + t.stallDetail);
        pair.reset();  // a stalled association is abandoned; the soak goes on with a new one
        pair = std::make_unique<DirectPair>(o.config, "soak");
        ++pairs;
        break;
      }
      if (bulk) {
        bulkMbit.push_back(static_cast<double>(t.bytes) * 8 / t.seconds / 1e6);
        drainMs.push_back(t.drainMs);
      } else {
        floodMsgs.push_back(static_cast<double>(t.messages) / t.seconds);
      }
    }
    if (o.progress) o.progress("transfers", static_cast<double>(i + 1) / o.transfers);
  }
  const SctpStackCounters sctpAfter = sctpStackCounters();
  const UdpDropCounters dropsAfter = udpDropCounters();
  const std::uint64_t drops = dropsAfter.receiveBuffer - dropsBefore.receiveBuffer;
  const std::uint64_t sendDrops = dropsAfter.sendBuffer - dropsBefore.sendBuffer;
  pair.reset();

  const LatencySummary bulk = summarize(bulkMbit), flood = summarize(floodMsgs),
                       drain = summarize(drainMs);
  const std::uint32_t retransmitted =
      sctpAfter.dataChunksRetransmitted - sctpBefore.dataChunksRetransmitted;
  const std::uint32_t timeouts =
      sctpAfter.retransmissionTimeouts - sctpBefore.retransmissionTimeouts;
  r.bulkMbitPerS = bulk.p50;
  r.smallMsgsPerS = flood.p50;
  r.extra["soak"] = {
      {"transfers", o.transfers},
      {"stalls", stalls},
      {"silent_stalls", silentStalls},
      {"pairs", pairs},
      {"bulk_mbit_per_s", toJson(bulk)},
      {"small_msgs_per_s", toJson(flood)},
      {"drain_ms", toJson(drain)},
      {"udp_receive_buffer_drops", drops},
      {"udp_send_buffer_drops", sendDrops},
      {"udp_receive_buffer_bytes", o.config.udpReceiveBufferBytes},
      {"sctp_data_chunks_sent", sctpAfter.dataChunksSent - sctpBefore.dataChunksSent},
      {"sctp_data_chunks_retransmitted", retransmitted},
      {"sctp_retransmission_timeouts", timeouts}};
  char line[400];
  std::snprintf(
      line, sizeof line,
      "%zu transfers, %zu stalls; bulk min %.0f / p50 %.0f Mbit/s, small messages min "
      "%.0f / p50 %.0f msg/s; drain after the last send p50 %.1f / max %.1f ms; %llu "
      "UDP receive-buffer and %llu send-buffer drops, %u DATA chunks retransmitted, %u T3 "
      "timeouts",
      o.transfers, stalls, bulk.min, bulk.p50, flood.min, flood.p50, drain.p50, drain.max,
      static_cast<unsigned long long>(drops), static_cast<unsigned long long>(sendDrops),
      retransmitted, timeouts);
  r.notes.insert(r.notes.begin(), line);
  r.targets.push_back({"stalled transfers = 0", 0, static_cast<double>(stalls), ""});
  r.targets.push_back({"stalls left \"connected\" = 0 (each one ends its connection)", 0,
                       static_cast<double>(silentStalls), ""});
  return r;
}

}  // namespace ifmesh::bench
