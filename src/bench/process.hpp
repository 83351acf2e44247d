#pragma once
// Test-host plumbing for the scenarios that run in network namespaces: child processes owned by
// PID, a pair of namespaces joined by a rate-limited veth link, and a namespace of its own with
// only loopback. Everything is torn down by destructors, also when a run fails halfway.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace ifmesh::bench {

class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv);  // stdout captured, stderr inherited
  ~ChildProcess();                                              // SIGTERM, SIGKILL, reaped
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  // Reads stdout until a line contains `needle` or the timeout passes; returns that line or "".
  std::string waitForLine(const std::string& needle, std::chrono::milliseconds timeout);
  // Waits for exit; returns all remaining stdout. Throws on timeout.
  std::string finish(std::chrono::milliseconds timeout, int* exitCode = nullptr);
  pid_t pid() const { return pid_; }
  // SIGKILL now, as a crash would, and reap; the destructor then has nothing left to do.
  void kill();

 private:
  void stop();
  pid_t pid_ = -1;
  int out_ = -1;
  std::string buffered_;
};

// Runs a shell command line and returns its output; throws std::runtime_error with that output
// when it fails.
std::string run(const std::string& command);

class NetnsPair {
 public:
  // Two namespaces "<prefix>a"/"<prefix>b", a veth between them (10.213.0.1 / 10.213.0.2) and a
  // tbf rate limit on a's side (a -> b). Requires root.
  explicit NetnsPair(unsigned rateKbit);
  ~NetnsPair();
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;
  const std::string& a() const { return a_; }
  const std::string& b() const { return b_; }
  static constexpr const char* kAddressA = "10.213.0.1";
  static constexpr const char* kAddressB = "10.213.0.2";
  static bool available();  // root and `ip netns` usable

 private:
  void teardown();
  std::string a_, b_;
};

class LoopbackNetns {
 public:
  // A namespace "ifm<pid>l" with only its loopback up; with rateKbit > 0 a tbf qdisc on that
  // loopback (queue of `latency` at the rate), so traffic beyond the rate is queued, then dropped.
  // Requires root.
  LoopbackNetns(unsigned rateKbit, std::chrono::milliseconds latency);
  ~LoopbackNetns();
  LoopbackNetns(const LoopbackNetns&) = delete;
  LoopbackNetns& operator=(const LoopbackNetns&) = delete;
  const std::string& name() const { return name_; }
  struct QdiscCounters {
    std::uint64_t packetsSent = 0, dropped = 0, overlimits = 0;
  };
  // The loopback qdisc's counters (`tc -s qdisc show dev lo`).
  QdiscCounters qdiscCounters() const;

 private:
  std::string name_;
};

}  // namespace ifmesh::bench
