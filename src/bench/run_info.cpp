#include "bench/run_info.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>

#include "build_info.hpp"

namespace ifmesh::bench {

namespace {

std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  return "unknown";
}

std::string memoryTotal() {
  std::ifstream in("/proc/meminfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("MemTotal:", 0) == 0) {
      double kib = std::stod(line.substr(9));
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.1f GiB", kib / (1024 * 1024));
      return buf;
    }
  return "unknown";
}

std::string kernel() {
  utsname u{};
  if (uname(&u) != 0) return "unknown";
  return std::string(u.sysname) + " " + u.release + " " + u.machine;
}

// /proc/self/cmdline, arguments quoted where a shell would need it.
std::string commandLine() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string out;
  for (std::string arg; std::getline(in, arg, '\0');) {
    if (!out.empty()) out += ' ';
    if (arg.find_first_of(" \t\"'$\\") == std::string::npos && !arg.empty()) {
      out += arg;
      continue;
    }
    out += '\'';
    for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
  }
  return out;
}

std::string utcNow() {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

}  // namespace

RunInfo currentRun() {
  RunInfo r;
  r.date = utcNow();
  r.command = commandLine();
  r.commit = IFMESH_GIT_COMMIT;
  r.buildType = IFMESH_BUILD_TYPE;
  r.cpu = cpuModel();
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  r.cores = online > 0 ? static_cast<unsigned>(online) : 0;
  r.memory = memoryTotal();
  r.kernel = kernel();
  return r;
}

nlohmann::json toJson(const RunInfo& run) {
  nlohmann::json skipped = nlohmann::json::object(), failed = nlohmann::json::object();
  for (const auto& [name, why] : run.skipped) skipped[name] = why;
  for (const auto& [name, why] : run.failed) failed[name] = why;
  return {
      {"date", run.date},
      {"seconds", run.seconds},
      {"command", run.command},
      {"commit", run.commit},
      {"build_type", run.buildType},
      {"machine",
       {{"cpu", run.cpu}, {"cores", run.cores}, {"memory", run.memory}, {"kernel", run.kernel}}},
      {"skipped", skipped},
      {"failed", failed}};
}

}  // namespace ifmesh::bench
