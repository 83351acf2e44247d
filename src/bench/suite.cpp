#include "bench/suite.hpp"

#include <stdexcept>

#include "bench/coturn_process.hpp"
#include "bench/pair_scenario.hpp"

namespace ifmesh::bench {

namespace {

PairOptions pairOptions(const std::string& scenario, const SuiteOptions& s) {
  PairOptions o;
  o.scenario = scenario;
  o.samples = s.samples;
  o.warmup = std::max<std::size_t>(100, s.samples / 10);
  o.setupConnections = s.setupConnections;
  if (s.progress)
    o.progress = [scenario, cb = s.progress](const std::string& phase, double f) {
      cb(scenario, phase, f);
    };
  return o;
}

void addRttTargets(ScenarioResult& r) {
  r.targets.push_back(
      {"RTT p50 <= 3x UDP floor", 3, r.floorUs.p50 > 0 ? r.rttUs.p50 / r.floorUs.p50 : 0, "x"});
  r.targets.push_back(
      {"RTT p99 <= 10x UDP floor", 10, r.floorUs.p99 > 0 ? r.rttUs.p99 / r.floorUs.p99 : 0, "x"});
}

ScenarioResult runP2p(const SuiteOptions& s) {
  PairOptions o = pairOptions("p2p", s);
  o.title = "2-Agent P2P (STUN)";
  std::optional<CoturnProcess> stun;
  if (CoturnProcess::findBinary()) {
    stun.emplace();
    o.config.iceServers = {{stun->stunUrl(), "", ""}};
  }
  ScenarioResult r = runPairScenario(o);
  if (!stun) r.notes.push_back("coturn not installed: ran without a STUN server");
  r.targets.push_back({"p95 < 50ms (original design)", 50, r.rttUs.p95 / 1000, "ms"});
  addRttTargets(r);
  r.targets.push_back(
      {">= 1000 Mbit/s with 16 KiB messages", 1000, r.bulkMbitPerS, " Mbit/s", false});
  r.targets.push_back({">= 100000 small msgs/s", 100000, r.smallMsgsPerS, " msg/s", false});
  r.targets.push_back({"setup p50 <= 8ms", 8, r.setupMs.p50, "ms"});
  return r;
}

ScenarioResult runTurn(const SuiteOptions& s) {
  CoturnProcess turn;
  // The direct RTT in the same run, for the relay-overhead target.
  PairOptions direct = pairOptions("turn-direct-reference", s);
  direct.setupConnections = 0;
  direct.bulkDuration = direct.smallDuration = std::chrono::milliseconds(0);
  ScenarioResult reference = runPairScenario(direct);

  PairOptions o = pairOptions("turn", s);
  o.title = "2-Agent P2P (TURN)";
  o.config.iceServers = {{turn.turnUrl(), turn.options().username, turn.options().password}};
  o.config.forceRelay = true;
  ScenarioResult r = runPairScenario(o);
  r.extra["direct_rtt_us"] = toJson(reference.rttUs);
  r.targets.push_back({"p95 < 150ms (original design)", 150, r.rttUs.p95 / 1000, "ms"});
  addRttTargets(r);
  r.targets.push_back(
      {"relay RTT p50 <= direct p50 + 100us", reference.rttUs.p50 + 100, r.rttUs.p50, "us"});
  r.targets.push_back({"setup p50 <= 20ms", 20, r.setupMs.p50, "ms"});
  return r;
}

}  // namespace

std::vector<std::string> scenarioNames() {
  return {"p2p", "turn"};
}

std::optional<std::string> skipReason(const std::string& scenario) {
  if (scenario == "turn" && !CoturnProcess::findBinary())
    return "coturn (turnserver) is not installed: run scripts/install-deps.sh";
  return std::nullopt;
}

ScenarioResult runScenario(const std::string& scenario, const SuiteOptions& options) {
  if (scenario == "p2p") return runP2p(options);
  if (scenario == "turn") return runTurn(options);
  throw std::invalid_argument("unknown scenario '" + scenario + "'");
}

}  // namespace ifmesh::bench
