#pragma once
// The C++ PeerConnection and its DataChannels as the Python package drives them (ifmesh/rtc.py).
// Nothing here takes the GIL: the connection's I/O thread queues every event (its own and its
// channels') in one RtcEventSink, which signals an eventfd that the asyncio loop watches
// (loop.add_reader). Sends go straight to the channel's queue, which never waits for Python.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ifmesh/rtc/peer_connection.hpp"

namespace ifmesh::python {

struct RtcEvent {
  enum class Kind {
    Candidate,          // text (the candidate, empty at end-of-candidates), mid
    State,              // text: the connection's state
    IceState,           // text
    GatheringState,     // text
    DataChannel,        // channel (key), dataChannel: one the peer opened
    ChannelOpen,        // channel
    ChannelClose,       // channel
    ChannelError,       // channel, text
    ChannelMessage,     // channel, message
    BufferedAmountLow,  // channel
  };
  explicit RtcEvent(Kind k) : kind(k) {}
  Kind kind;
  std::uint64_t channel = 0;
  std::string text;
  std::string mid;
  Message message;
  std::shared_ptr<DataChannel> dataChannel;
};

// One connection's events, and the eventfd that says some are waiting. Events are queued under a
// mutex; the eventfd is written once per batch (the first event after Python took the previous
// batch). After close() events are dropped and the descriptor is gone, so a callback that runs
// late never writes to a descriptor number the process has reused.
class RtcEventSink {
 public:
  RtcEventSink();  // throws Error(Io) when no eventfd can be made
  ~RtcEventSink();
  RtcEventSink(const RtcEventSink&) = delete;
  RtcEventSink& operator=(const RtcEventSink&) = delete;

  int fd() const;
  void emit(RtcEvent event);
  std::vector<RtcEvent> take();
  // Drops what is queued and closes the descriptor; idempotent.
  void close();

 private:
  mutable std::mutex mutex_;
  std::vector<RtcEvent> events_;
  bool wakePending_ = false;
  int fd_ = -1;
};

class NativeDataChannel {
 public:
  NativeDataChannel(std::shared_ptr<DataChannel> channel, std::uint64_t key)
      : channel_(std::move(channel)), key_(key) {}

  // The key this channel's events carry.
  std::uint64_t key() const { return key_; }
  // Throws Error(ChannelClosed) once released.
  std::shared_ptr<DataChannel> channel() const;
  // Drops the C++ channel (its connection closed): sends raise ChannelClosed from then on.
  void release();

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<DataChannel> channel_;
  std::uint64_t key_;
};

class NativePeerConnection {
 public:
  explicit NativePeerConnection(RtcConfiguration config);
  ~NativePeerConnection();
  NativePeerConnection(const NativePeerConnection&) = delete;
  NativePeerConnection& operator=(const NativePeerConnection&) = delete;

  // Readable whenever events are waiting (an eventfd; valid until close()).
  int fileno() const { return sink_->fd(); }
  std::vector<RtcEvent> takeEvents() { return sink_->take(); }

  // Throws Error(InvalidState) once closed.
  std::shared_ptr<PeerConnection> connection() const;
  std::unique_ptr<NativeDataChannel> createDataChannel(const std::string& label,
                                                       const DataChannelInit& init);
  // Closes the connection: its state and channel-close events are queued before it returns.
  void closeConnection();
  // Closes the connection, destroys it (no callback runs afterwards) and the eventfd; idempotent.
  void close();
  bool closed() const;

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<RtcEventSink> sink_;
  std::shared_ptr<std::atomic<std::uint64_t>> nextKey_;
  std::shared_ptr<PeerConnection> pc_;
};

}  // namespace ifmesh::python
