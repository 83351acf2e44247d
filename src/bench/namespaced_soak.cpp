#include "bench/namespaced_soak.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "bench/process.hpp"

namespace ifmesh::bench {

namespace {

// The child's report, read back: the soak's figures, notes and targets.
ScenarioResult fromChildReport(const nlohmann::json& j, const NamespacedSoakOptions& o) {
  ScenarioResult r;
  r.scenario = o.scenario;
  r.title = o.title;
  r.bulkMbitPerS = j.at("throughput").at("mbit_per_s").get<double>();
  r.bulkMsgsPerS = j.at("throughput").at("msgs_per_s").get<double>();
  r.smallMsgsPerS = j.at("small_msgs_per_s").get<double>();
  r.extra["soak"] = j.at("soak");
  for (const auto& t : j.at("targets"))
    r.targets.push_back({t.at("name").get<std::string>(), t.at("limit").get<double>(),
                         t.at("actual").get<double>(), t.at("unit").get<std::string>(),
                         t.at("at_most").get<bool>()});
  if (j.contains("notes")) r.notes = j.at("notes").get<std::vector<std::string>>();
  return r;
}

}  // namespace

bool namespacedSoakAvailable() {
  return NetnsPair::available();
}

ScenarioResult runNamespacedSoak(const NamespacedSoakOptions& o) {
  LoopbackNetns ns(o.tbfRateKbit, o.tbfLatency);
  const std::string json = (std::filesystem::temp_directory_path() /
                            ("ifmesh-soak-" + std::to_string(::getpid()) + ".json"))
                               .string();
  std::filesystem::remove(json);
  std::vector<std::string> argv = {
      "ip",     "netns",      "exec", ns.name(),          o.cliPath,
      "bench",  "--scenario", "soak", "--soak-transfers", std::to_string(o.transfers),
      "--json", json};
  if (o.udpReceiveBufferBytes > 0) {
    argv.push_back("--udp-rcvbuf");
    argv.push_back(std::to_string(o.udpReceiveBufferBytes));
  }
  int exitCode = -1;
  std::string output;
  {
    ChildProcess child(argv);
    // Each transfer is bounded by the soak's own stall timeout; a child past this is lost.
    const auto limit = std::chrono::seconds(60 + 30 * o.transfers);
    output = child.finish(limit, &exitCode);
  }
  std::ifstream in(json);
  auto report = nlohmann::json::parse(in, nullptr, false);
  std::filesystem::remove(json);
  if (report.is_discarded() || !report.contains("soak"))
    throw std::runtime_error("the soak in namespace " + ns.name() + " reported nothing (exit " +
                             std::to_string(exitCode) + "): " + output);
  ScenarioResult r = fromChildReport(report, o);
  if (o.tbfRateKbit > 0) {
    const auto q = ns.qdiscCounters();
    r.extra["soak"]["tbf"] = {{"rate_kbit", o.tbfRateKbit},
                              {"latency_ms", o.tbfLatency.count()},
                              {"packets_sent", q.packetsSent},
                              {"dropped", q.dropped},
                              {"overlimits", q.overlimits}};
    char line[200];
    std::snprintf(line, sizeof line,
                  "tbf on the namespace's loopback: %u kbit/s, %lld ms queue; %llu packets "
                  "passed, %llu dropped by the full queue",
                  o.tbfRateKbit, static_cast<long long>(o.tbfLatency.count()),
                  static_cast<unsigned long long>(q.packetsSent),
                  static_cast<unsigned long long>(q.dropped));
    r.notes.push_back(line);
  }
  return r;
}

}  // namespace ifmesh::bench
