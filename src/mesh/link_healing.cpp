#include "mesh/link_healing.hpp"

#include "mesh/backoff.hpp"
#include "mesh/link_host.hpp"

namespace ifmesh::detail {

LinkHealing::LinkHealing(LinkHost& host, std::string peerId, std::function<void()> retry)
    : host_(host), peerId_(std::move(peerId)), retry_(std::move(retry)) {}

void LinkHealing::attemptStarted() {
  // With healing.turnAfterFailures 0 the first attempt already goes through TURN.
  fallBackToTurnIfDue();
  if (failedAttempts_ > 0)
    host_.witness("reconnection_attempt_started", peerId_,
                  {{"attempt_number", failedAttempts_ + 1}, {"strategy", strategy()}});
}

void LinkHealing::connected(nlohmann::json link) {
  timer_.cancel();
  link["strategy"] = strategy();
  if (everConnected_ || failedAttempts_ > 0) {
    auto downtime = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - downSince_);
    link["total_attempts"] = failedAttempts_ + 1;
    link["total_downtime_ms"] = downtime.count();
    link["failed_attempts"] = failedAttempts_;
    host_.witness("peer_reconnected_successfully", peerId_, std::move(link));
  } else {
    host_.witness("peer_connected", peerId_, std::move(link));
  }
  everConnected_ = true;
  failedAttempts_ = 0;
}

void LinkHealing::lost() {
  downSince_ = std::chrono::steady_clock::now();
  failedAttempts_ = 0;
  schedule();
}

std::optional<std::string> LinkHealing::attemptFailed(const std::string& why) {
  if (!everConnected_ && failedAttempts_ == 0) downSince_ = std::chrono::steady_clock::now();
  ++failedAttempts_;
  host_.witness("reconnection_attempt_failed", peerId_,
                {{"attempt_number", failedAttempts_}, {"strategy", strategy()}, {"reason", why}});
  return retryOrGiveUp("peer permanently unreachable after " + std::to_string(failedAttempts_) +
                       " attempts");
}

std::optional<std::string> LinkHealing::refused(int consecutive) {
  // Counted like failed attempts, so a peer that never proves itself ends up unreachable.
  failedAttempts_ = consecutive;
  downSince_ = std::chrono::steady_clock::now();
  return retryOrGiveUp("peer failed authentication " + std::to_string(consecutive) + " times");
}

std::optional<std::string> LinkHealing::retryOrGiveUp(std::string givingUpReason) {
  if (failedAttempts_ >= host_.linkSettings().healing.maxRetries) {
    host_.witness("peer_permanently_unreachable", peerId_, {{"failed_attempts", failedAttempts_}});
    return givingUpReason;
  }
  schedule();
  return std::nullopt;
}

void LinkHealing::fallBackToTurnIfDue() {
  if (useRelay_ || failedAttempts_ < host_.linkSettings().healing.turnAfterFailures ||
      !host_.linkSettings().turnAvailable)
    return;
  useRelay_ = true;
  host_.witness("reconnection_using_turn", peerId_, {{"failed_attempts", failedAttempts_}});
}

void LinkHealing::schedule() {
  const auto& healing = host_.linkSettings().healing;
  fallBackToTurnIfDue();
  auto delay = mesh::backoffDelay(healing, failedAttempts_, host_.rng());
  host_.witness("reconnection_attempt_scheduled", peerId_,
                {{"attempt_number", failedAttempts_ + 1},
                 {"backoff_delay_ms", delay.count()},
                 {"strategy", strategy()},
                 {"failed_attempts", failedAttempts_}});
  timer_ = host_.loop().addTimer(delay, [this] {
    retry_();
    return false;
  });
}

}  // namespace ifmesh::detail
