#pragma once
// A link's healing: counts failed connection attempts, backs off between them (healing config),
// falls back to TURN, gives up after healing.maxRetries, and witnesses each step. Loop thread
// only.
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "rtc/io_loop.hpp"

namespace ifmesh::detail {

class LinkHost;

class LinkHealing {
 public:
  // retry(): start the next attempt (runs from the backoff timer).
  LinkHealing(LinkHost& host, std::string peerId, std::function<void()> retry);

  bool relay() const { return useRelay_; }  // attempts go through TURN
  // Whether an answer to the peer's offer goes through TURN: as our next attempt would
  // (healing.turnAfterFailures, 0: from the first).
  bool relayForAnswer() {
    fallBackToTurnIfDue();
    return useRelay_;
  }
  bool retryScheduled() const { return timer_.active(); }
  void cancel() { timer_.cancel(); }

  void attemptStarted();
  // The channel opened: witnesses the connection (`link` describes it) and starts counting anew.
  void connected(nlohmann::json link);
  // An established connection went down: retry soon.
  void lost();
  // An attempt failed, or the peer failed authentication `consecutive` times in a row: a retry
  // is scheduled (nothing), or healing gives up (why, for every message still held).
  std::optional<std::string> attemptFailed(const std::string& why);
  std::optional<std::string> refused(int consecutive);

 private:
  std::optional<std::string> retryOrGiveUp(std::string givingUpReason);
  void schedule();
  // Attempts go through TURN from now on once healing.turnAfterFailures attempts failed.
  void fallBackToTurnIfDue();
  const char* strategy() const { return useRelay_ ? "turn" : "direct"; }

  LinkHost& host_;
  std::string peerId_;
  std::function<void()> retry_;
  int failedAttempts_ = 0;
  bool useRelay_ = false;
  bool everConnected_ = false;
  std::chrono::steady_clock::time_point downSince_;
  rtc::IoLoop::Timer timer_;
};

}  // namespace ifmesh::detail
