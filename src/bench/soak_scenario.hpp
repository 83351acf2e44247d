#pragma once
// The soak scenario: many bulk transfers on one DataChannel pair, each followed by a flood of small
// messages, the sending side alternating between offerer and answerer. It counts transfers that
// stop making progress (stalls) while the sender still has data outstanding: the one figure that
// must be 0. Optionally with a tiny UDP receive buffer, so that datagrams really are dropped and
// every transfer runs on SCTP's loss recovery.
#include <chrono>
#include <functional>
#include <string>

#include "bench/report.hpp"
#include "ifmesh/rtc/configuration.hpp"

namespace ifmesh::bench {

struct SoakOptions {
  std::string scenario = "soak";
  std::string title = "DataChannel soak (bulk and small-message transfers)";
  RtcConfiguration config;  // localAddresses default to 127.0.0.1
  // Pairs opened and closed before the soak pair, as the p2p scenario's setup phase does: the
  // stalls this scenario hunts were seen more often after it.
  std::size_t setupPairs = 20;
  std::size_t transfers = 200;
  std::chrono::milliseconds bulkDuration{2500};  // 16 KiB messages under backpressure
  std::chrono::milliseconds floodDuration{500};  // 100-byte messages after each bulk transfer
  std::size_t bulkMessageSize = 16 * 1024;
  std::size_t floodMessageSize = 100;
  // A transfer whose receiver sees nothing new for this long, with data outstanding, or whose
  // connection gives up, is a stall.
  std::chrono::milliseconds stallTimeout{15000};
  std::function<void(const std::string& phase, double fraction)> progress;
};

// Never throws for a stall: stalls are counted, described in the notes, and the pair is replaced
// so the remaining transfers still run. Throws std::runtime_error when a pair cannot connect.
ScenarioResult runSoakScenario(const SoakOptions& options);

}  // namespace ifmesh::bench
