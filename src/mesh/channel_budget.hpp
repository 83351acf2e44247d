#pragma once
// How many bytes a peer link keeps in its transport: about what the link drains in a short target
// delay. The rest of a backlog waits in the agent's priority lanes, where Control/High messages
// overtake it and the bandwidth adapter batches and compresses it, instead of in buffers no
// priority reaches (the DataChannel's queue and usrsctp's send buffer). Sans-IO: time and byte
// counts in, a byte budget out.
//
// The drain rate is the link's delivery rate: the bytes the peer acknowledges per unit time (not
// what enters SCTP, which a burst into an empty window would overstate many times). While
// messages wait in the channel SCTP is at its send window, and a sample is the link's rate; when
// the channel ran dry the link carried at least that much. The budget is that rate times the
// target delay, within [floor, ceiling]. On a fast link it grows on its own: with the window at
// B and a round trip of r the rate measures B / r, so the next budget is B times target / r,
// larger while r is below the target delay. On a slow link it settles at rate x target (or the
// floor), so a message that skips the agent's queue waits about that long behind what SCTP
// holds, plus the channel's share (half the budget). A path whose round trip exceeds the target
// delay (its SACKs queued behind a flood the other way, say) is held to about floor / round
// trip; Control/High messages pass its window (DataChannel::sendUrgent).
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace ifmesh {
class DataChannel;
}

namespace ifmesh::detail {

class ChannelBudget {
 public:
  using Clock = std::chrono::steady_clock;
  struct Config {
    std::chrono::milliseconds targetDelay{25};
    // Rate samples span at least this long.
    std::chrono::milliseconds sampleInterval{20};
    std::size_t floor = 16 * 1024;
    // usrsctp's send buffer holds no more than this anyway.
    std::size_t ceiling = 256 * 1024;
  };

  ChannelBudget() : ChannelBudget(Config{}) {}
  explicit ChannelBudget(Config config);

  // One observation of a channel: acknowledged, the running count of bytes its peer acknowledged
  // (a count lower than the last one means a new connection, and the estimate starts over);
  // buffered, the bytes waiting in it. Returns the budget.
  std::size_t update(Clock::time_point now, std::uint64_t acknowledged, std::size_t buffered);
  std::size_t budget() const { return budget_; }
  // The estimated drain rate; 0 until the first sample.
  double bytesPerSecond() const { return rate_; }

 private:
  void restart(Clock::time_point now, std::uint64_t acknowledged, std::size_t buffered);

  Config config_;
  std::size_t budget_;
  double rate_ = 0;
  bool started_ = false;
  Clock::time_point sampleStart_{};
  std::uint64_t sampleStartBytes_ = 0;
  bool backlogged_ = false;  // messages waited in the channel at every observation of the sample
  std::uint64_t lastBytes_ = 0;
};

// Applies a link's budget to its open channel: the SCTP association may hold `budget` bytes
// (DataChannel::setSendWindow), and Normal/Low messages may wait in the channel while it holds less
// than the returned limit, the smaller of half the budget and highWater; bufferedAmountLow fires
// at half the limit, so the next messages follow before SCTP runs dry.
std::size_t applyChannelBudget(ChannelBudget& budget, DataChannel& channel, std::size_t highWater);

}  // namespace ifmesh::detail
