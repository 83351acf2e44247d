#include "bench/coturn_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>
#include <thread>

#include "bench/loopback.hpp"
#include "bench/unique_fd.hpp"

namespace ifmesh::bench {

namespace {

// A loopback port no one is bound to right now, for UDP and TCP alike.
std::uint16_t freeLoopbackPort() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    UniqueFd udp(::socket(AF_INET, SOCK_DGRAM, 0));
    sockaddr_in addr = loopbackAddress();
    if (::bind(udp.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) continue;
    socklen_t len = sizeof addr;
    ::getsockname(udp.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    UniqueFd tcp(::socket(AF_INET, SOCK_STREAM, 0));
    if (::bind(tcp.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
      return ntohs(addr.sin_port);
  }
  throw std::runtime_error("no free loopback port");
}

}  // namespace

std::optional<std::filesystem::path> CoturnProcess::findBinary() {
  for (const char* p : {"/usr/bin/turnserver", "/usr/local/bin/turnserver"})
    if (::access(p, X_OK) == 0) return std::filesystem::path(p);
  return std::nullopt;
}

CoturnProcess::CoturnProcess(Options options) : options_(std::move(options)) {
  auto binary = findBinary();
  if (!binary) throw std::runtime_error("coturn (turnserver) is not installed");
  std::string tmpl = (std::filesystem::temp_directory_path() / "ifmesh-coturn-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  port_ = options_.port != 0 ? options_.port : freeLoopbackPort();
  std::random_device random;
  auto relayBase =
      static_cast<std::uint16_t>(20000 + std::uniform_int_distribution<int>(0, 400)(random) * 100);
  auto config = dir_ / "turnserver.conf";
  {
    std::ofstream out(config);
    out << "listening-ip=127.0.0.1\n"
        << "relay-ip=127.0.0.1\n"
        << "listening-port=" << port_ << "\n"
        << "min-port=" << relayBase << "\nmax-port=" << relayBase + 99 << "\n"
        << "realm=" << options_.realm << "\n"
        << "lt-cred-mech\nfingerprint\n"
        << "user=" << options_.username << ":" << options_.password << "\n"
        << "no-tls\nno-dtls\nno-cli\nno-tcp-relay\nallow-loopback-peers\n"
        << "no-multicast-peers\nno-rfc5780\nno-stun-backward-compatibility\n"
        << "pidfile=" << (dir_ / "turnserver.pid").string() << "\n"
        << "log-file=" << (dir_ / "turnserver.log").string() << "\nsimple-log\n";
  }
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execl(binary->c_str(), "turnserver", "-c", config.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + options_.startTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("turnserver exited during start-up (see " +
                               (dir_ / "turnserver.log").string() + ")");
    }
    if (answersStun()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop();
  throw std::runtime_error("turnserver did not answer STUN within the start timeout");
}

CoturnProcess::~CoturnProcess() {
  stop();
}

void CoturnProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void CoturnProcess::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

std::string CoturnProcess::stunUrl() const {
  return "stun:127.0.0.1:" + std::to_string(port_);
}
std::string CoturnProcess::turnUrl() const {
  return "turn:127.0.0.1:" + std::to_string(port_) + "?transport=udp";
}

// One STUN Binding request (RFC 5389) to see whether the server is up.
bool CoturnProcess::answersStun() const {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM, 0));
  sockaddr_in addr = loopbackAddress(port_);
  std::array<std::uint8_t, 20> request{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42};
  for (std::size_t i = 8; i < request.size(); ++i) request[i] = static_cast<std::uint8_t>(i * 13);
  if (::sendto(fd.get(), request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&addr),
               sizeof addr) < 0)
    return false;
  pollfd p{fd.get(), POLLIN, 0};
  if (::poll(&p, 1, 100) <= 0) return false;
  std::array<std::uint8_t, 512> response{};
  ssize_t n = ::recv(fd.get(), response.data(), response.size(), 0);
  return n >= 20 && response[0] == 0x01 && response[1] == 0x01;
}

}  // namespace ifmesh::bench
