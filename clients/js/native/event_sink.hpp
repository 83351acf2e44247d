#pragma once
// One connection's events on their way from its I/O thread to Node.js's main thread: the I/O
// thread queues them, and the first event after the main thread took the previous batch calls
// the connection's thread-safe function once. After close() events are dropped and the function
// is released, so a callback that runs late calls nothing.
#include <node_api.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ifmesh/rtc/data_channel.hpp"

namespace ifmesh::node {

enum class Kind : std::int32_t {
  Candidate = 0,          // (candidate, mid); an empty candidate ends the candidates
  State = 1,              // (state)
  DataChannel = 2,        // key, (label, protocol): a channel the peer opened
  ChannelOpen = 3,        // key
  ChannelClose = 4,       // key
  ChannelError = 5,       // key, (text)
  ChannelMessage = 6,     // key, (string | ArrayBuffer)
  BufferedAmountLow = 7,  // key
};

struct Event {
  Kind kind;
  std::uint32_t key = 0;
  std::string text;
  std::string mid;
  ifmesh::Message message;
  std::shared_ptr<DataChannel> channel;
};

class EventSink {
 public:
  explicit EventSink(napi_threadsafe_function tsfn) : tsfn_(tsfn) {}

  void emit(Event event) {
    std::lock_guard lock(mutex_);
    if (!tsfn_) return;
    events_.push_back(std::move(event));
    if (wakePending_) return;
    wakePending_ = true;
    napi_call_threadsafe_function(tsfn_, nullptr, napi_tsfn_nonblocking);
  }

  std::vector<Event> take() {
    std::vector<Event> out;
    std::lock_guard lock(mutex_);
    out.swap(events_);
    wakePending_ = false;
    return out;
  }

  // Drops what waits and releases the thread-safe function; idempotent.
  void close() {
    std::vector<Event> dropped;  // destroyed outside the lock: they may hold channels
    napi_threadsafe_function tsfn;
    {
      std::lock_guard lock(mutex_);
      dropped.swap(events_);
      tsfn = tsfn_;
      tsfn_ = nullptr;
    }
    // Abort: calls still queued reach callJs without an environment, which then does nothing;
    // the Connection they would drain may be gone.
    if (tsfn) napi_release_threadsafe_function(tsfn, napi_tsfn_abort);
  }

 private:
  std::mutex mutex_;
  std::vector<Event> events_;
  bool wakePending_ = false;
  napi_threadsafe_function tsfn_;
};

// Routes one channel's callbacks into the sink, tagged with the channel's key. The callbacks
// hold the sink, never the channel: no cycle keeps it alive.
inline void hookChannel(DataChannel& channel, const std::shared_ptr<EventSink>& sink,
                        std::uint32_t key) {
  auto simple = [&](Kind kind) {
    return [sink, key, kind] { sink->emit(Event{kind, key, {}, {}, {}, {}}); };
  };
  channel.onOpen(simple(Kind::ChannelOpen));
  channel.onClose(simple(Kind::ChannelClose));
  channel.onBufferedAmountLow(simple(Kind::BufferedAmountLow));
  channel.onError([sink, key](const std::string& text) {
    sink->emit(Event{Kind::ChannelError, key, text, {}, {}, {}});
  });
  channel.onMessage([sink, key](ifmesh::Message&& message) {
    Event e{Kind::ChannelMessage, key, {}, {}, {}, {}};
    e.message = std::move(message);
    sink->emit(std::move(e));
  });
}

}  // namespace ifmesh::node
