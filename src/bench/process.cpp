#include "bench/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <thread>

namespace ifmesh::bench {

ChildProcess::ChildProcess(const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(fds[1], 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  out_ = fds[0];
}

ChildProcess::~ChildProcess() {
  stop();
}

void ChildProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void ChildProcess::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100 && ::waitpid(pid_, nullptr, WNOHANG) != pid_; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (::kill(pid_, 0) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }
  if (out_ >= 0) ::close(out_);
  out_ = -1;
}

std::string ChildProcess::waitForLine(const std::string& needle,
                                      std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (auto nl = buffered_.find('\n'); nl != std::string::npos; nl = buffered_.find('\n')) {
      std::string line = buffered_.substr(0, nl);
      buffered_.erase(0, nl + 1);
      if (line.find(needle) != std::string::npos) return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || out_ < 0) return "";
    pollfd p{out_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
    std::array<char, 4096> buf;
    ssize_t n = ::read(out_, buf.data(), buf.size());
    if (n <= 0) return "";
    buffered_.append(buf.data(), static_cast<std::size_t>(n));
  }
}

std::string ChildProcess::finish(std::chrono::milliseconds timeout, int* exitCode) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string out = buffered_;
  buffered_.clear();
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      throw std::runtime_error("child " + std::to_string(pid_) + " did not finish");
    pollfd p{out_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    std::array<char, 4096> buf;
    ssize_t n = ::read(out_, buf.data(), buf.size());
    if (n <= 0) break;
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  if (exitCode) *exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

std::string run(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen((command + " 2>&1").c_str(), "r"), &::pclose);
  if (!pipe) throw std::runtime_error("popen failed: " + command);
  std::string output;
  std::array<char, 512> buf;
  while (std::fgets(buf.data(), buf.size(), pipe.get())) output += buf.data();
  int status = ::pclose(pipe.release());
  if (status != 0) throw std::runtime_error("`" + command + "` failed: " + output);
  return output;
}

bool NetnsPair::available() {
  if (::geteuid() != 0) return false;
  try {
    run("ip netns list");
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

NetnsPair::NetnsPair(unsigned rateKbit) {
  std::string prefix = "ifm" + std::to_string(::getpid());
  a_ = prefix + "a";
  b_ = prefix + "b";
  try {
    run("ip netns add " + a_);
    run("ip netns add " + b_);
    run("ip link add " + a_ + " netns " + a_ + " type veth peer name " + b_ + " netns " + b_);
    run("ip -n " + a_ + " addr add " + std::string(kAddressA) + "/24 dev " + a_);
    run("ip -n " + b_ + " addr add " + std::string(kAddressB) + "/24 dev " + b_);
    for (const auto& ns : {a_, b_}) {
      run("ip -n " + ns + " link set lo up");
      run("ip -n " + ns + " link set " + ns + " up");
    }
    // The constrained direction: a -> b. (netem is not available here; tbf is.)
    run("ip netns exec " + a_ + " tc qdisc add dev " + a_ + " root tbf rate " +
        std::to_string(rateKbit) + "kbit burst 16kb latency 200ms");
  } catch (...) {
    teardown();
    throw;
  }
}

NetnsPair::~NetnsPair() {
  teardown();
}

void NetnsPair::teardown() {
  // Deleting a namespace removes its veth end (and with it the peer and the qdisc).
  for (const auto& ns : {a_, b_}) {
    if (ns.empty()) continue;
    try {
      run("ip netns del " + ns);
    } catch (const std::exception&) {
    }
  }
  a_.clear();
  b_.clear();
}

LoopbackNetns::LoopbackNetns(unsigned rateKbit, std::chrono::milliseconds latency)
    : name_("ifm" + std::to_string(::getpid()) + "l") {
  run("ip netns add " + name_);
  try {
    run("ip -n " + name_ + " link set lo up");
    if (rateKbit > 0)
      run("ip netns exec " + name_ + " tc qdisc add dev lo root tbf rate " +
          std::to_string(rateKbit) + "kbit burst 16kb latency " + std::to_string(latency.count()) +
          "ms");
  } catch (...) {
    run("ip netns del " + name_);
    throw;
  }
}

LoopbackNetns::~LoopbackNetns() {
  try {
    run("ip netns del " + name_);
  } catch (const std::exception&) {
  }
}

LoopbackNetns::QdiscCounters LoopbackNetns::qdiscCounters() const {
  // " Sent 123 bytes 45 pkt (dropped 6, overlimits 7 requeues 0)"
  const std::string out = run("ip netns exec " + name_ + " tc -s qdisc show dev lo");
  QdiscCounters c;
  auto number = [&](const std::string& after) -> std::uint64_t {
    auto at = out.find(after);
    return at == std::string::npos ? 0
                                   : std::strtoull(out.c_str() + at + after.size(), nullptr, 10);
  };
  auto pkt = out.find(" pkt");
  if (pkt != std::string::npos) {
    auto start = out.rfind(' ', pkt - 1);
    c.packetsSent = std::strtoull(out.c_str() + start + 1, nullptr, 10);
  }
  c.dropped = number("dropped ");
  c.overlimits = number("overlimits ");
  return c;
}

}  // namespace ifmesh::bench
