#include "ice/consent_freshness.hpp"

#include <algorithm>

namespace ifmesh::ice {

ConsentFreshness::ConsentFreshness(Clock::time_point granted, Config config,
                                   std::function<double()> random01)
    : config_(config), random01_(std::move(random01)), lastGranted_(granted) {
  nextRequest_ = granted + jittered();
}

ConsentFreshness::Clock::duration ConsentFreshness::jittered() const {
  const double fraction = 0.8 + 0.4 * std::clamp(random01_(), 0.0, 1.0);
  return std::chrono::duration_cast<Clock::duration>(config_.interval * fraction);
}

void ConsentFreshness::requestSent(Clock::time_point now) {
  nextRequest_ = now + jittered();
}

void ConsentFreshness::renewed(Clock::time_point now) {
  lastGranted_ = std::max(lastGranted_, now);
}

}  // namespace ifmesh::ice
