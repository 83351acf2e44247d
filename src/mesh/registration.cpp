#include "mesh/registration.hpp"

namespace ifmesh::detail {

bool Registration::isRefusal(const std::string& code) {
  return code == "duplicate_id" || code == "unauthorized" || code == "bad_agent_id" ||
         code == "bad_public_key" || code == "server_full";
}

bool Registration::isConnectionFailure(const std::string& code) {
  return code == "unreachable" || code == "tls_error";
}

void Registration::registered() {
  {
    std::lock_guard lock(mutex_);
    registered_ = everRegistered_ = true;
    refusalCode_.clear();
    refusalMessage_.clear();
  }
  changed_.notify_all();
}

void Registration::disconnected() {
  std::lock_guard lock(mutex_);
  registered_ = false;
}

void Registration::error(const std::string& code, const std::string& message) {
  bool refusal = isRefusal(code), failure = isConnectionFailure(code);
  if (!refusal && !failure) return;  // about a relay (unknown_peer, rate_limited ...)
  {
    std::lock_guard lock(mutex_);
    lastError_ = code + ": " + message;
    if (refusal) {
      refusalCode_ = code;
      refusalMessage_ = message;
    } else {
      refusalCode_.clear();  // that connection is gone; the next one registers anew
      refusalMessage_.clear();
      if (!everRegistered_) {
        ++failures_;
        failureCode_ = code;
        failureMessage_ = message;
      }
    }
  }
  changed_.notify_all();
}

bool Registration::isRegistered() const {
  std::lock_guard lock(mutex_);
  return registered_;
}

RegistrationResult Registration::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  const std::uint64_t seen = failuresReported_;
  bool done = changed_.wait_until(
      lock, deadline, [&] { return registered_ || !refusalCode_.empty() || failures_ > seen; });
  if (registered_) return {true, {}, {}};
  if (!refusalCode_.empty()) return {false, refusalCode_, refusalMessage_};
  if (done) {
    failuresReported_ = failures_;
    return {false, failureCode_, failureMessage_};
  }
  std::string message = "not registered within " + std::to_string(timeout.count()) + " ms";
  if (!lastError_.empty()) message += "; last error: " + lastError_;
  return {false, "timeout", message};
}

}  // namespace ifmesh::detail
