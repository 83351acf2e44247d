#pragma once
// Durable delivery's cost: two agents in this process on 127.0.0.1, without a state store, with
// one on this machine's disk and with one on tmpfs; per mode the echo round trip (each ping sent
// with Agent::send, which waits until it is durable) and the rate of one-way 1 KiB messages, and
// fdatasync calls per message.
#include <string>

#include "bench/report.hpp"

namespace ifmesh::bench {

struct DurableOptions {
  std::string diskDirectory;  // the state directories' parent on disk (removed afterwards)
  std::string tmpfsDirectory = "/dev/shm";
  std::size_t roundTrips = 2000;
  std::size_t messages = 50000;
  std::size_t messageBytes = 1024;
};

ScenarioResult runDurableScenario(const DurableOptions& options);

}  // namespace ifmesh::bench
