#include "bench/report.hpp"

#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace ifmesh::bench {

namespace {

const std::string kRule(77, '=');

std::string fmt(const char* format, double a, double b = 0, double c = 0) {
  char buf[160];
  std::snprintf(buf, sizeof buf, format, a, b, c);
  return buf;
}

std::string ms(double us) {
  return fmt("%.3fms", us / 1000.0);
}

}  // namespace

double ratio(double value, double floor) {
  return floor > 0 ? value / floor : 0;
}

std::string formatBlock(const ScenarioResult& r) {
  std::string out;
  out += kRule + "\nBenchmark: " + r.title + "\n" + kRule + "\n";
  if (r.rttUs.samples == 0) {
    // Zeros here would read as measured RTTs; such a scenario reports in its notes and targets.
    out += "Samples:      0 (no echo round trips in this scenario: see the notes)\n";
  } else {
    out += "Samples:      " + std::to_string(r.rttUs.samples) + "\n";
    out += "Min RTT:      " + ms(r.rttUs.min) + "\n";
    out += "Max RTT:      " + ms(r.rttUs.max) + "\n";
    out += "Avg RTT:      " + ms(r.rttUs.avg) + "\n";
    out += "P50 (median): " + ms(r.rttUs.p50) + "\n";
    out += "P95:          " + ms(r.rttUs.p95) + "\n";
    out += "P99:          " + ms(r.rttUs.p99) + "\n";
    out += "Throughput:   " + fmt("%.2f msg/s (echo round trips)", r.echoRoundTripsPerS) + "\n";
  }
  if (r.floorUs.samples > 0) {
    out += "UDP floor:    p50 " + ms(r.floorUs.p50) + "  p99 " + ms(r.floorUs.p99) +
           fmt("  (RTT/floor: p50 %.2fx, p99 %.2fx)", ratio(r.rttUs.p50, r.floorUs.p50),
               ratio(r.rttUs.p99, r.floorUs.p99)) +
           "\n";
  }
  if (r.bulkMbitPerS > 0)
    out += fmt("Bulk:         %.1f Mbit/s (%.1f MB/s, %.0f msg/s of 16 KiB)", r.bulkMbitPerS,
               r.bulkMbitPerS / 8, r.bulkMsgsPerS) +
           "\n";
  if (r.smallMsgsPerS > 0) out += fmt("Small msgs:   %.0f msg/s (100 B)", r.smallMsgsPerS) + "\n";
  if (r.setupMs.samples > 0)
    out += fmt("Setup:        p50 %.2fms  p95 %.2fms", r.setupMs.p50, r.setupMs.p95) + " (" +
           std::to_string(r.setupMs.samples) + " connections)\n";
  if (r.connections > 0)
    out += "Established:  " + std::to_string(r.connections) + " connections in " +
           fmt("%.0f ms", r.establishMs) + "\n";
  for (const auto& note : r.notes) out += "Note:         " + note + "\n";
  out += kRule + "\n\n";
  for (const auto& t : r.targets) {
    out += "Target: " + t.name + " | Actual: " + fmt("%.3f", t.actual) + t.unit + " | " +
           (t.pass() ? "\u2705 PASS" : "\u274c FAIL") + "\n";
  }
  return out;
}

nlohmann::json toJson(const ScenarioResult& r) {
  nlohmann::json j = {
      {"scenario", r.scenario},
      {"title", r.title},
      {"rtt_us", toJson(r.rttUs)},
      {"floor_udp_rtt_us", {{"p50", r.floorUs.p50}, {"p99", r.floorUs.p99}}},
      {"throughput", {{"mbit_per_s", r.bulkMbitPerS}, {"msgs_per_s", r.bulkMsgsPerS}}},
      {"echo_round_trips_per_s", r.echoRoundTripsPerS},
      {"small_msgs_per_s", r.smallMsgsPerS},
      {"setup_ms",
       {{"p50", r.setupMs.p50}, {"p95", r.setupMs.p95}, {"samples", r.setupMs.samples}}},
  };
  nlohmann::json targets = nlohmann::json::array();
  for (const auto& t : r.targets)
    targets.push_back({{"name", t.name},
                       {"limit", t.limit},
                       {"actual", t.actual},
                       {"unit", t.unit},
                       {"at_most", t.atMost},
                       {"pass", t.pass()},
                       {"floor", t.floor}});
  j["targets"] = targets;
  j["rtt_samples_us"] = r.rttSamplesUs;
  for (auto& [key, value] : r.extra.items()) j[key] = value;
  if (!r.notes.empty()) j["notes"] = r.notes;
  return j;
}

nlohmann::json toJson(const std::vector<ScenarioResult>& results) {
  if (results.size() == 1) return toJson(results.front());
  nlohmann::json all = nlohmann::json::array();
  for (const auto& r : results) all.push_back(toJson(r));
  return {{"scenarios", all}};
}

void writeJsonFile(const std::string& path, const std::vector<ScenarioResult>& results,
                   const nlohmann::json& run) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path);
  nlohmann::json j = toJson(results);
  if (!run.is_null()) j["run"] = run;
  out << j.dump(2) << "\n";
}

}  // namespace ifmesh::bench
