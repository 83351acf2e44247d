#include "mesh/channel_budget.hpp"

#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "ifmesh/rtc/data_channel.hpp"

namespace ifmesh::detail {

ChannelBudget::ChannelBudget(Config config) : config_(config), budget_(config.floor) {}

void ChannelBudget::restart(Clock::time_point now, std::uint64_t acknowledged,
                            std::size_t buffered) {
  started_ = true;
  sampleStart_ = now;
  sampleStartBytes_ = acknowledged;
  lastBytes_ = acknowledged;
  backlogged_ = buffered > 0;
}

std::size_t ChannelBudget::update(Clock::time_point now, std::uint64_t acknowledged,
                                  std::size_t buffered) {
  if (!started_ || acknowledged < lastBytes_) {
    if (started_) *this = ChannelBudget(config_);  // a new connection: its link may differ
    restart(now, acknowledged, buffered);
    return budget_;
  }
  lastBytes_ = acknowledged;
  if (buffered == 0) backlogged_ = false;
  auto elapsed = now - sampleStart_;
  if (elapsed < config_.sampleInterval) return budget_;
  double seconds = std::chrono::duration<double>(elapsed).count();
  double sample = static_cast<double>(acknowledged - sampleStartBytes_) / seconds;
  if (backlogged_) {
    // SCTP was at its window throughout: the sample is the link's drain rate.
    rate_ = rate_ == 0 ? sample : 0.5 * rate_ + 0.5 * sample;
  } else {
    // The channel ran dry at times: the link drains at least this fast.
    rate_ = std::max(rate_, sample);
  }
  double wanted = rate_ * std::chrono::duration<double>(config_.targetDelay).count();
  budget_ = std::clamp(static_cast<std::size_t>(wanted), config_.floor, config_.ceiling);
  restart(now, acknowledged, buffered);
  return budget_;
}

std::size_t applyChannelBudget(ChannelBudget& budget, DataChannel& channel, std::size_t highWater) {
  std::size_t allowed = budget.update(ChannelBudget::Clock::now(), channel.bytesAcknowledged(),
                                      channel.bufferedAmount());
  channel.setSendWindow(allowed);
  std::size_t limit = std::min(allowed / 2, highWater);
  channel.setBufferedAmountLowThreshold(limit / 2);
  return limit;
}

}  // namespace ifmesh::detail
