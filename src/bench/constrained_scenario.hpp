#pragma once
// Bandwidth adaptation on a real constrained link: two network namespaces joined by a veth pair
// with a tbf rate limit; a sender agent floods a receiver agent, once with the adapter and once
// without, each agent a separate `ifmesh` process in its own namespace.
#include <string>

#include "bench/report.hpp"

namespace ifmesh::bench {

struct ConstrainedOptions {
  std::string cliPath;  // the ifmesh executable
  unsigned rateKbit = 4000;
  int count = 120;
  std::size_t messageBytes = 32 * 1024;
};

// One flood run; the JSON printed by `ifmesh flood` plus "receiver_sequences_ok" (the receiver's
// witness log shows every message exactly once).
nlohmann::json runConstrainedFlood(const ConstrainedOptions& options, bool adapter);
ScenarioResult runConstrainedScenario(const ConstrainedOptions& options);

}  // namespace ifmesh::bench
