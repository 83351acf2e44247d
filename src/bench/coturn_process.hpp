#pragma once
// A real TURN/STUN server (coturn) for tests and benchmarks: started on 127.0.0.1 with a generated
// configuration (long-term credentials, no TLS, relaying on loopback), stopped by its PID.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace ifmesh::bench {

class CoturnProcess {
 public:
  struct Options {
    std::string username = "ifmesh";
    std::string password = "ifmesh-secret";
    std::string realm = "ifmesh.test";
    std::chrono::milliseconds startTimeout{5000};
    std::uint16_t port = 0;  // 0: a free loopback port (set one to restart a server in place)
  };

  // Path of the turnserver binary, if installed.
  static std::optional<std::filesystem::path> findBinary();

  // Starts coturn and waits until it answers a STUN binding request. Throws std::runtime_error.
  explicit CoturnProcess(Options options);
  CoturnProcess() : CoturnProcess(Options{}) {}
  ~CoturnProcess();  // SIGTERM, then SIGKILL after a grace period; always reaped
  CoturnProcess(const CoturnProcess&) = delete;
  CoturnProcess& operator=(const CoturnProcess&) = delete;

  std::uint16_t port() const { return port_; }
  const Options& options() const { return options_; }
  std::string stunUrl() const;  // "stun:127.0.0.1:<port>"
  std::string turnUrl() const;  // "turn:127.0.0.1:<port>?transport=udp"
  pid_t pid() const { return pid_; }
  // SIGKILL, as if the server crashed: no goodbye to anyone. Reaps it; idempotent.
  void kill();

 private:
  bool answersStun() const;
  void stop();

  Options options_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace ifmesh::bench
