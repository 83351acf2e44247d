#pragma once
// The soak scenario run by a child `ifmesh bench` inside a network namespace of its own: a fresh
// host whose only interface is loopback, optionally with a tbf qdisc on that loopback so that
// traffic beyond the rate is queued and then dropped (a link that overflows). The child's result
// comes back as its JSON report, with the qdisc's counters added.
#include <chrono>
#include <string>

#include "bench/report.hpp"

namespace ifmesh::bench {

struct NamespacedSoakOptions {
  std::string scenario = "soak-netns";
  std::string title = "DataChannel soak in a loopback-only network namespace";
  std::string cliPath;       // the ifmesh executable the child runs
  unsigned tbfRateKbit = 0;  // 0: no qdisc
  std::chrono::milliseconds tbfLatency{5};
  std::size_t transfers = 200;
  int udpReceiveBufferBytes = 0;  // 0: the system's
};

bool namespacedSoakAvailable();  // root and `ip netns` usable

// Throws std::runtime_error when the namespace cannot be built or the child reports nothing.
ScenarioResult runNamespacedSoak(const NamespacedSoakOptions& options);

}  // namespace ifmesh::bench
