#pragma once
// Whether an agent is registered with the signaling server, and why not: what
// Agent::waitRegistered waits on (include/ifmesh/agent.hpp has the rules). Thread-safe.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

#include "ifmesh/agent.hpp"

namespace ifmesh::detail {

class Registration {
 public:
  // The signaling client's reports, in the order it made them.
  void registered();
  void disconnected();
  // Any error the signaling client reported; those that concern registration are kept.
  void error(const std::string& code, const std::string& message);

  bool isRegistered() const;
  RegistrationResult wait(std::chrono::milliseconds timeout);

  // Codes the server answers a registration with; the client does not register again on the
  // same connection.
  static bool isRefusal(const std::string& code);
  // Codes for a connection attempt that failed; the client retries with backoff.
  static bool isConnectionFailure(const std::string& code);

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool registered_ = false;
  bool everRegistered_ = false;
  std::string refusalCode_, refusalMessage_;  // in force until a new connection
  // Connection failures before the first registration, counted; each ends one wait.
  std::uint64_t failures_ = 0, failuresReported_ = 0;
  std::string failureCode_, failureMessage_;  // the latest of them
  std::string lastError_;                     // for a timeout's message
};

}  // namespace ifmesh::detail
