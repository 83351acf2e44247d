// `ifmesh flood`: sends a burst of large messages to one peer while measuring small control
// messages' round trips (one at Normal priority, queued behind the flood, and one at the
// --control-priority, which overtakes it), and prints what the bandwidth adapter did (JSON). Used
// by the constrained-link test and benchmark; the peer runs `ifmesh agent --echo`. With
// --rtt-samples it first times echo round trips with one message in flight, the figure the
// JavaScript and Python benchmarks set theirs beside.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "bench/flood_payload.hpp"
#include "commands.hpp"
#include "ifmesh/agent.hpp"
#include "usage.hpp"

namespace ifmesh::cli {

namespace {

struct FloodArgs {
  std::string id, to, signal, localAddress;
  int count = 100;
  std::size_t size = 32 * 1024;
  std::uint64_t seed = 1;
  bool noAdapt = false;
  int timeoutMs = 120000;
  std::string controlPriority = "high";
  std::string messageSignatures = "always";
  int rttSamples = 0;
};

// Echo round trips before --rtt-samples starts counting (connection and caches warm).
constexpr int kWarmupRoundTrips = 200;

// Median, 99th percentile and largest of a set of round trips, in ms.
nlohmann::json rttSummary(std::vector<double> rtt) {
  std::sort(rtt.begin(), rtt.end());
  auto pct = [&](double p) {
    return rtt.empty() ? 0.0
                       : rtt[std::min(rtt.size() - 1, static_cast<std::size_t>(p * rtt.size()))];
  };
  return {{"samples", rtt.size()},
          {"p50", pct(0.5)},
          {"p99", pct(0.99)},
          {"max", rtt.empty() ? 0 : rtt.back()}};
}

int runFlood(const FloodArgs& a) {
  using Clock = std::chrono::steady_clock;
  AgentConfig c;
  c.agentId = a.id;
  c.signalingUrl = a.signal;
  if (!a.localAddress.empty()) c.localAddresses = {a.localAddress};
  c.bandwidth.enabled = !a.noAdapt;
  c.identity.messageSignatures =
      a.messageSignatures == "relayed" ? MessageSignatures::Relayed : MessageSignatures::Always;
  c.maxMessageBytes = std::max<std::size_t>(a.size + 4096, 64 * 1024);
  std::mutex mutex;
  std::vector<std::string> transitions;
  std::vector<double> controlRtt, priorityRtt;
  MessagePriority priority = MessagePriority::High;
  if (a.controlPriority == "control") priority = MessagePriority::Control;
  std::atomic<std::size_t> peakBuffered{0};
  std::atomic<int> echoed{0};
  // The echo round trips with one message in flight: the key of the last echo seen.
  std::condition_variable echoSeen;
  std::int64_t lastEcho = -1;
  Agent agent(c);
  agent.onQualityChange([&](QualityMode from, QualityMode to) {
    std::lock_guard lock(mutex);
    transitions.push_back(std::string(toString(from)) + ">" + toString(to));
  });
  agent.onMessage([&](const IFMessage& m) {
    const auto& echo = m.payload.contains("echo") ? m.payload["echo"] : m.payload;
    if (echo.contains("k") && echo["k"].is_number_integer()) {
      std::lock_guard lock(mutex);
      lastEcho = echo["k"].get<std::int64_t>();
      echoSeen.notify_all();
    } else if (echo.contains("control")) {
      auto sent = echo["control"].get<std::int64_t>();
      auto now =
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
              .count();
      std::lock_guard lock(mutex);
      (m.priority == MessagePriority::Normal ? controlRtt : priorityRtt)
          .push_back(static_cast<double>(now - sent) / 1000.0);
    } else {
      ++echoed;
    }
  });
  agent.connectToSignaling();
  if (auto r = agent.waitRegistered(std::chrono::seconds(10)); !r) {
    std::cerr << "could not register: " << r.code << ": " << r.message << "\n";
    return 1;
  }
  agent.connect(a.to);
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (agent.peers().empty()) {
    if (Clock::now() > deadline) {
      std::cerr << "no connection to " << a.to << "\n";
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Echo round trips of a small message, one in flight, after kWarmupRoundTrips not counted.
  std::vector<double> echoRtt;
  for (int k = 0; a.rttSamples > 0 && k < kWarmupRoundTrips + a.rttSamples; ++k) {
    IFMessage m;
    m.payload = {{"k", k}};
    auto t0 = Clock::now();
    agent.send(a.to, m);
    std::unique_lock lock(mutex);
    if (!echoSeen.wait_for(lock, std::chrono::seconds(10), [&] { return lastEcho == k; })) {
      std::cerr << "no echo of round trip " << k << " within 10 s\n";
      return 1;
    }
    if (k >= kWarmupRoundTrips)
      echoRtt.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  // JSON records like agents exchange, which zstd shrinks 3-5x (bench/flood_payload.hpp).
  std::vector<nlohmann::json> payloads;
  for (int i = 0; i < a.count; ++i) {
    payloads.push_back(bench::floodPayload(a.seed + static_cast<std::uint64_t>(i), a.size));
    payloads.back()["n"] = i;
  }
  std::uint64_t payloadBytes = 0;
  for (const auto& p : payloads) payloadBytes += p.dump().size();
  auto start = Clock::now();
  for (auto& payload : payloads) {
    IFMessage m;
    m.payload = std::move(payload);
    agent.send(a.to, m);
  }
  // While the flood drains, a small control message every 100 ms measures what a user would feel:
  // one at Normal priority (behind the flood) and one at the control priority (ahead of it).
  deadline = Clock::now() + std::chrono::milliseconds(a.timeoutMs);
  auto nextControl = Clock::now();
  std::size_t controlsSent = 0;
  while (agent.unacknowledged(a.to) > 0 && Clock::now() < deadline) {
    if (Clock::now() >= nextControl) {
      IFMessage control;
      control.payload = {{"control", std::chrono::duration_cast<std::chrono::microseconds>(
                                         Clock::now().time_since_epoch())
                                         .count()}};
      agent.send(a.to, control);
      control.priority = priority;
      agent.send(a.to, control);
      controlsSent += 2;
      nextControl += std::chrono::milliseconds(100);
    }
    peakBuffered = std::max<std::size_t>(peakBuffered, agent.getBandwidthStats().maxBuffered);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  double drainedMs = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  bool allAcked = agent.unacknowledged(a.to) == 0;
  // The echoes, of the flood and of the Normal control messages behind it, still cross the
  // constrained link back: every RTT is counted only once they are all in (or the deadline).
  auto allEchoed = [&] {
    std::lock_guard lock(mutex);
    return echoed.load() >= a.count && controlRtt.size() + priorityRtt.size() >= controlsSent;
  };
  auto echoDeadline = std::min(deadline, Clock::now() + std::chrono::seconds(30));
  while (!allEchoed() && Clock::now() < echoDeadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // Let the adapter see the empty buffers and climb back.
  deadline = Clock::now() + std::chrono::seconds(5);
  while (a.noAdapt == false && agent.getQualityMode() != QualityMode::High &&
         Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto stats = agent.getBandwidthStats();
  std::lock_guard lock(mutex);
  nlohmann::json out = {
      {"sent", a.count},
      {"message_bytes", a.size},
      {"payload_bytes", payloadBytes},
      {"all_acknowledged", allAcked},
      {"drain_ms", drainedMs},
      {"adapter", !a.noAdapt},
      {"transitions", transitions},
      {"final_mode", toString(agent.getQualityMode())},
      {"peak_buffered", std::max(stats.peakBuffered, peakBuffered.load())},
      {"batches_sent", stats.batchesSent},
      {"messages_batched", stats.messagesBatched},
      {"control_rtt_ms", rttSummary(controlRtt)},
      {"priority_control_rtt_ms", rttSummary(priorityRtt)},
      {"control_priority", toString(priority)},
      {"compressed_frames", stats.compressedFrames},
      {"bytes_before_compression", stats.bytesBeforeCompression},
      {"bytes_after_compression", stats.bytesAfterCompression},
      {"compression_ratio", stats.bytesAfterCompression == 0
                                ? 0.0
                                : static_cast<double>(stats.bytesBeforeCompression) /
                                      static_cast<double>(stats.bytesAfterCompression)},
      {"peak_queued_messages", stats.peakQueuedMessages},
      {"echoes_received", echoed.load()}};
  if (a.rttSamples > 0) out["echo_rtt_ms"] = rttSummary(echoRtt);
  std::cout << out.dump() << std::endl;
  return allAcked ? 0 : 3;
}

}  // namespace

void addFloodCommand(CLI::App& app, int& exitCode) {
  auto a = std::make_shared<FloodArgs>();
  CLI::App* cmd =
      app.add_subcommand("flood", "Flood one peer and report the bandwidth adapter's behaviour");
  cmd->add_option("--id", a->id, "This agent's id")->required();
  cmd->add_option("--to", a->to, "The peer (running `ifmesh agent --echo`)")->required();
  cmd->add_option("--signal", a->signal, "Signaling server URL")->required();
  cmd->add_option("--local-address", a->localAddress, "Gather ICE candidates only on this address");
  cmd->add_option("--count", a->count, "Messages to send");
  cmd->add_option("--size", a->size, "Bytes of payload per message (JSON records, about)");
  cmd->add_option("--seed", a->seed,
                  "Seed of the generated payloads (the same seed, the same bytes)");
  cmd->add_option("--rtt-samples", a->rttSamples,
                  "First time this many echo round trips of a small message, one in flight "
                  "(after 200 not counted); reported as echo_rtt_ms")
      ->check(CLI::Range(0, 1000000));
  cmd->add_flag("--no-adapt", a->noAdapt, "Disable the bandwidth adapter (for comparison)");
  cmd->add_option("--timeout-ms", a->timeoutMs, "Give up waiting for acknowledgements after this");
  cmd->add_option("--control-priority", a->controlPriority,
                  "Priority of the second control message: high | control")
      ->check(CLI::IsMember({"high", "control"}));
  cmd->add_option("--message-signatures", a->messageSignatures,
                  "always: sign and require a signature on every message; relayed: only on "
                  "messages that pass through a relay")
      ->check(CLI::IsMember({"always", "relayed"}))
      ->default_val("always");
  cmd->footer(
      "Example:\n  ifmesh flood --id s --to echo-1 --signal ws://127.0.0.1:8443 --count 100 "
      "--size 32768\n"
      "Prints the bandwidth adapter's mode changes and how long the control messages took.");
  cmd->callback([a, &exitCode] { exitCode = reportingErrors([&] { return runFlood(*a); }); });
}

}  // namespace ifmesh::cli
