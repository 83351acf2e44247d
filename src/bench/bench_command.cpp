#include "bench/bench_command.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>

#include "bench/html_report.hpp"
#include "bench/progress_bar.hpp"
#include "bench/run_info.hpp"
#include "bench/suite.hpp"

namespace ifmesh::bench {

namespace {

struct BenchArgs {
  std::vector<std::string> scenarios;
  std::string jsonPath;
  std::string htmlPath;
  std::size_t samples = 10000;
  std::size_t setupConnections = 20;
  bool signEveryMessage = false;
  double meshSeconds = 0;
  std::size_t soakTransfers = 200;
  int udpReceiveBuffer = 0;
  std::string ice;  // "", "libnice" or "shared"
};

int runBench(const BenchArgs& args) {
  bool everything = args.scenarios.empty();
  std::vector<std::string> names = everything ? scenarioNames() : args.scenarios;
  RunInfo run = currentRun();
  auto start = std::chrono::steady_clock::now();
  ProgressBar bar;
  SuiteOptions options;
  options.samples = args.samples;
  options.setupConnections = args.setupConnections;
  options.signEveryMessage = args.signEveryMessage;
  options.meshTraffic = std::chrono::milliseconds(static_cast<long>(args.meshSeconds * 1000));
  options.soakTransfers = args.soakTransfers;
  options.udpReceiveBufferBytes = args.udpReceiveBuffer;
  if (!args.ice.empty()) options.sharedIceSocket = args.ice == "shared";
  options.progress = [&bar](const std::string& scenario, const std::string& phase, double f) {
    bar.update(scenario + ": " + phase, f);
  };
  std::vector<ScenarioResult> results;
  for (const auto& name : names) {
    if (auto why = skipReason(name, everything)) {
      std::cout << "Skipped " << name << ": " << *why << "\n\n";
      run.skipped.emplace_back(name, *why);
      continue;
    }
    try {
      results.push_back(runScenario(name, options));
      bar.finish();
      std::cout << formatBlock(results.back()) << std::endl;
    } catch (const std::exception& e) {
      bar.finish();
      std::cerr << "scenario " << name << " failed: " << e.what() << "\n";
      run.failed.emplace_back(name, e.what());
    }
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!args.jsonPath.empty() && !results.empty())
    writeJsonFile(args.jsonPath, results, toJson(run));
  if (!args.htmlPath.empty() && !results.empty()) writeHtmlFile(args.htmlPath, results, run);
  return run.failed.empty() ? 0 : 1;
}

}  // namespace

void addBenchCommand(CLI::App& app, int& exitCode) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand("bench", "Run the benchmark suite on loopback");
  cmd->add_option("--scenario", args->scenarios,
                  "Scenario to run (repeatable): p2p, turn, mesh5, constrained, soak, soak-lossy, "
                  "soak-tbf, soak-netns, partial100, hub100, mesh100, or meshN for an N-agent "
                  "full mesh; default: all")
      ->check(CLI::Validator(
          [](std::string& name) -> std::string {
            auto known = scenarioNames();
            if (std::find(known.begin(), known.end(), name) != known.end()) return "";
            bool meshN = name.size() > 4 && name.size() <= 8 && name.rfind("mesh", 0) == 0 &&
                         name.find_first_not_of("0123456789", 4) == std::string::npos;
            if (meshN && std::stoi(name.substr(4)) >= 2) return "";
            return "unknown scenario '" + name + "' (see --help for the list)";
          },
          "SCENARIO"));
  cmd->footer(
      "Example:\n  ifmesh bench --scenario p2p --scenario mesh5 --json results.json --html "
      "report.html\n"
      "Every scenario also measures its floor (plain UDP, or the same TURN server) in the same "
      "run.");
  cmd->add_option("--json", args->jsonPath, "Write every figure to this JSON file");
  cmd->add_option("--html", args->htmlPath, "Write a self-contained HTML report with plots");
  cmd->add_option("--samples", args->samples, "Timed echo round trips per scenario")
      ->check(CLI::Range(100, 10000000));
  cmd->add_option("--setup-connections", args->setupConnections,
                  "Connections timed for setup latency");
  cmd->add_option("--mesh-seconds", args->meshSeconds,
                  "Agent scenarios: seconds of all-pairs echo (default 3, mesh100 5)")
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--soak-transfers", args->soakTransfers,
                  "Soak scenarios: bulk + small-message transfers (default 200)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--udp-rcvbuf", args->udpReceiveBuffer,
                  "p2p, turn and the soaks: SO_RCVBUF of each connection's UDP socket in bytes "
                  "(default: the system's; soak-lossy: 4096)")
      ->check(CLI::Range(0, 64 * 1024 * 1024));
  cmd->add_flag("--sign-every-message", args->signEveryMessage,
                "Agent scenarios: Ed25519-sign every IFMessage, not only relayed ones");
  cmd->add_option("--ice", args->ice,
                  "p2p and agent scenarios: 'shared' (ifmesh's own ICE agent on one UDP socket "
                  "per I/O thread) or 'libnice' (a socket per connection); default: the "
                  "library's (shared)")
      ->check(CLI::IsMember({"libnice", "shared"}));
  cmd->callback([args, &exitCode] { exitCode = runBench(*args); });
}

}  // namespace ifmesh::bench
