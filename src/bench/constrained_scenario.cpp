#include "bench/constrained_scenario.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>

#include "bench/process.hpp"

namespace ifmesh::bench {

namespace {

// Every message the sender sent arrived once: for each priority (its own sequence series), the
// receiver's witness log holds sequence numbers 1..N from the sender with no gap and no repeat.
bool receiverSawEachOnce(const std::string& witnessPath, std::size_t* count) {
  std::ifstream in(witnessPath);
  std::map<std::string, std::multiset<std::uint64_t>> seqs;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("event", "") != "ifmessage_received") continue;
    if (j.value("peer_id", "") != "sender") continue;
    seqs[j["metadata"].value("priority", "normal")].insert(
        j["metadata"]["sequence_num"].get<std::uint64_t>());
  }
  *count = 0;
  for (const auto& [priority, lane] : seqs) {
    *count += lane.size();
    std::uint64_t expected = 1;
    for (auto s : lane)
      if (s != expected++) return false;
  }
  return !seqs.empty();
}

}  // namespace

nlohmann::json runConstrainedFlood(const ConstrainedOptions& o, bool adapter) {
  NetnsPair net(o.rateKbit);
  std::string port = std::to_string(19000 + ::getpid() % 1000);
  std::string url = std::string("ws://") + NetnsPair::kAddressA + ":" + port;
  std::string witness = (std::filesystem::temp_directory_path() /
                         ("ifmesh-constrained-" + std::to_string(::getpid()) + ".jsonl"))
                            .string();
  std::filesystem::remove(witness);
  nlohmann::json result;
  {
    ChildProcess server({"ip", "netns", "exec", net.a(), o.cliPath, "signal", "--address",
                         NetnsPair::kAddressA, "--port", port});
    if (server.waitForLine("signaling server", std::chrono::seconds(10)).empty())
      throw std::runtime_error("signaling server did not start in the namespace");
    ChildProcess receiver({"ip", "netns", "exec", net.b(), o.cliPath, "agent", "--id", "receiver",
                           "--signal", url, "--local-address", NetnsPair::kAddressB, "--echo",
                           "--witness", witness});
    if (receiver.waitForLine("registered", std::chrono::seconds(10)).empty())
      throw std::runtime_error("receiver agent did not register");
    std::vector<std::string> flood = {"ip",
                                      "netns",
                                      "exec",
                                      net.a(),
                                      o.cliPath,
                                      "flood",
                                      "--id",
                                      "sender",
                                      "--to",
                                      "receiver",
                                      "--signal",
                                      url,
                                      "--local-address",
                                      NetnsPair::kAddressA,
                                      "--count",
                                      std::to_string(o.count),
                                      "--size",
                                      std::to_string(o.messageBytes)};
    if (!adapter) flood.push_back("--no-adapt");
    ChildProcess sender(flood);
    int exitCode = -1;
    std::string out = sender.finish(std::chrono::minutes(3), &exitCode);
    result = nlohmann::json::parse(out.substr(0, out.find('\n')), nullptr, false);
    if (result.is_discarded()) throw std::runtime_error("flood printed no result: " + out);
  }  // receiver and server stop here (SIGTERM), flushing the receiver's witness log
  std::size_t received = 0;
  result["receiver_sequences_ok"] = receiverSawEachOnce(witness, &received);
  result["receiver_messages"] = received;
  std::filesystem::remove(witness);
  return result;
}

ScenarioResult runConstrainedScenario(const ConstrainedOptions& o) {
  ScenarioResult r;
  r.scenario = "constrained";
  r.title =
      "Constrained link (" + std::to_string(o.rateKbit) + " kbit/s tbf, veth between namespaces)";
  auto with = runConstrainedFlood(o, true);
  auto without = runConstrainedFlood(o, false);
  r.extra["with_adapter"] = with;
  r.extra["without_adapter"] = without;
  auto oneDecimal = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return std::string(buf);
  };
  auto describe = [&oneDecimal](const char* name, const nlohmann::json& j) {
    std::string t;
    for (const auto& x : j["transitions"]) t += x.get<std::string>() + " ";
    return std::string(name) + ": peak buffered " +
           std::to_string(j["peak_buffered"].get<std::size_t>() / 1024) +
           " KiB, control RTT (normal priority) p50 " +
           oneDecimal(j["control_rtt_ms"]["p50"].get<double>()) + " ms / max " +
           oneDecimal(j["control_rtt_ms"]["max"].get<double>()) + " ms, control RTT (" +
           j.value("control_priority", "high") + " priority) p50 " +
           oneDecimal(j["priority_control_rtt_ms"]["p50"].get<double>()) + " ms / max " +
           oneDecimal(j["priority_control_rtt_ms"]["max"].get<double>()) + " ms, compressed " +
           std::to_string(j.value("bytes_before_compression", 0ULL) / 1024) + " -> " +
           std::to_string(j.value("bytes_after_compression", 0ULL) / 1024) + " KiB (zstd " +
           oneDecimal(j.value("compression_ratio", 0.0)) + "x), drained in " +
           std::to_string(static_cast<int>(j["drain_ms"].get<double>())) +
           " ms, transitions: " + (t.empty() ? "none" : t) + ", receiver got each message once: " +
           (j["receiver_sequences_ok"].get<bool>() ? "yes" : "NO");
  };
  r.notes.push_back("flood: " + std::to_string(o.count) + " JSON agent messages of " +
                    std::to_string(o.messageBytes / 1024) +
                    " KiB (records with varied fields, words, numbers and ids; "
                    "bench/flood_payload.hpp), echoed back by the receiver");
  r.notes.push_back(describe("adapter on", with));
  r.notes.push_back(describe("adapter off", without));
  r.targets.push_back({"adapter reached LOW and returned to HIGH", 1,
                       with["final_mode"] == "HIGH" && with["transitions"].size() >= 4 ? 1.0 : 0.0,
                       "", false});
  // A priority control message overtakes the flood in the agent's lanes and waits only for what
  // the link's budget lets the channel and SCTP hold (about 25 ms of the link each,
  // mesh/channel_budget.hpp), not for the tbf queue or a full usrsctp send buffer.
  r.targets.push_back({"high-priority control RTT p50 under the full backlog (adapter on)", 150,
                       with["priority_control_rtt_ms"]["p50"].get<double>(), "ms", true});
  r.targets.push_back({"high-priority control RTT max under the full backlog (adapter on)", 400,
                       with["priority_control_rtt_ms"]["max"].get<double>(), "ms", true});
  double normalP50 = without["control_rtt_ms"]["p50"].get<double>();
  r.targets.push_back(
      {"priority control RTT p50 at most half the normal one (adapter off)", 0.5,
       normalP50 > 0 ? without["priority_control_rtt_ms"]["p50"].get<double>() / normalP50 : 1.0,
       "x normal", true});
  r.targets.push_back(
      {"every message exactly once (both runs)", 1,
       with["receiver_sequences_ok"].get<bool>() && without["receiver_sequences_ok"].get<bool>()
           ? 1.0
           : 0.0,
       "", false});
  return r;
}

}  // namespace ifmesh::bench
