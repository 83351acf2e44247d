#pragma once
// The two clocks the scenarios read: steady time stamped into pings, and the CPU time this
// process has used (all threads, user + system) for a cost per round trip.
#include <sys/resource.h>

#include <chrono>
#include <cstdint>

namespace ifmesh::bench {

inline std::int64_t steadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline double processCpuUs() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto us = [](const timeval& t) { return double(t.tv_sec) * 1e6 + double(t.tv_usec); };
  return us(usage.ru_utime) + us(usage.ru_stime);
}

}  // namespace ifmesh::bench
