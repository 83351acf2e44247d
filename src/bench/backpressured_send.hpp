#pragma once
// Sending as fast as a DataChannel's backpressure allows, as the bulk phases of the pair and
// soak scenarios do: above 4 MiB buffered the sender waits for the bufferedAmountLow event
// (1 MiB).
#include <chrono>
#include <cstdint>
#include <functional>

#include "ifmesh/rtc/data_channel.hpp"

namespace ifmesh::bench {

// Sends `message` over and over for `duration`. `giveUp`, asked after each wait for the buffer
// to drain, ends the sending early when it returns true; `sent` hears the running count after
// each send. Either may be empty. Returns the number of messages sent.
std::uint64_t sendUnderBackpressure(DataChannel& sender, const Binary& message,
                                    std::chrono::milliseconds duration,
                                    const std::function<bool()>& giveUp = {},
                                    const std::function<void(std::uint64_t)>& sent = {});

}  // namespace ifmesh::bench
