#include "native_peer_connection.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include "ifmesh/error.hpp"

namespace ifmesh::python {

namespace {

// Routes one channel's callbacks into the connection's sink, tagged with the channel's key.
// The callbacks hold the sink, never the channel or the connection: no cycle keeps them alive.
void hookChannel(DataChannel& channel, const std::shared_ptr<RtcEventSink>& sink,
                 std::uint64_t key) {
  auto simple = [&](RtcEvent::Kind kind) {
    return [sink, key, kind] {
      RtcEvent e(kind);
      e.channel = key;
      sink->emit(std::move(e));
    };
  };
  channel.onOpen(simple(RtcEvent::Kind::ChannelOpen));
  channel.onClose(simple(RtcEvent::Kind::ChannelClose));
  channel.onBufferedAmountLow(simple(RtcEvent::Kind::BufferedAmountLow));
  channel.onError([sink, key](const std::string& text) {
    RtcEvent e(RtcEvent::Kind::ChannelError);
    e.channel = key;
    e.text = text;
    sink->emit(std::move(e));
  });
  channel.onMessage([sink, key](Message&& message) {
    RtcEvent e(RtcEvent::Kind::ChannelMessage);
    e.channel = key;
    e.message = std::move(message);
    sink->emit(std::move(e));
  });
}

}  // namespace

RtcEventSink::RtcEventSink() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw Error(Errc::Io, "eventfd failed");
}

RtcEventSink::~RtcEventSink() {
  close();
}

int RtcEventSink::fd() const {
  std::lock_guard lock(mutex_);
  return fd_;
}

void RtcEventSink::emit(RtcEvent event) {
  std::lock_guard lock(mutex_);
  if (fd_ < 0) return;
  events_.push_back(std::move(event));
  if (wakePending_) return;
  wakePending_ = true;
  std::uint64_t one = 1;
  // Fails only when the counter would overflow, and then the reader is woken anyway.
  [[maybe_unused]] auto n = ::write(fd_, &one, sizeof one);
}

std::vector<RtcEvent> RtcEventSink::take() {
  std::vector<RtcEvent> out;
  std::lock_guard lock(mutex_);
  if (fd_ >= 0) {
    std::uint64_t count = 0;
    [[maybe_unused]] auto n = ::read(fd_, &count, sizeof count);
  }
  out.swap(events_);
  wakePending_ = false;
  return out;
}

void RtcEventSink::close() {
  std::vector<RtcEvent> dropped;  // destroyed outside the lock: they may hold channels
  std::lock_guard lock(mutex_);
  dropped.swap(events_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::shared_ptr<DataChannel> NativeDataChannel::channel() const {
  std::lock_guard lock(mutex_);
  if (!channel_) throw Error(Errc::ChannelClosed, "the channel's connection is closed");
  return channel_;
}

void NativeDataChannel::release() {
  std::shared_ptr<DataChannel> channel;
  std::lock_guard lock(mutex_);
  channel.swap(channel_);
}

NativePeerConnection::NativePeerConnection(RtcConfiguration config)
    : sink_(std::make_shared<RtcEventSink>()),
      nextKey_(std::make_shared<std::atomic<std::uint64_t>>(1)),
      pc_(std::make_shared<PeerConnection>(std::move(config))) {
  auto sink = sink_;
  pc_->onLocalCandidate([sink](const Candidate& c) {
    RtcEvent e(RtcEvent::Kind::Candidate);
    e.text = c.candidate;
    e.mid = c.mid;
    sink->emit(std::move(e));
  });
  pc_->onStateChange([sink](PeerConnectionState s) {
    RtcEvent e(RtcEvent::Kind::State);
    e.text = toString(s);
    sink->emit(std::move(e));
  });
  pc_->onIceStateChange([sink](IceState s) {
    RtcEvent e(RtcEvent::Kind::IceState);
    e.text = toString(s);
    sink->emit(std::move(e));
  });
  pc_->onGatheringStateChange([sink](GatheringState s) {
    RtcEvent e(RtcEvent::Kind::GatheringState);
    e.text = toString(s);
    sink->emit(std::move(e));
  });
  pc_->onDataChannel([sink, keys = nextKey_](std::shared_ptr<DataChannel> channel) {
    RtcEvent e(RtcEvent::Kind::DataChannel);
    e.channel = keys->fetch_add(1);
    hookChannel(*channel, sink, e.channel);
    e.dataChannel = std::move(channel);
    sink->emit(std::move(e));
  });
}

NativePeerConnection::~NativePeerConnection() {
  close();
}

std::shared_ptr<PeerConnection> NativePeerConnection::connection() const {
  std::lock_guard lock(mutex_);
  if (!pc_) throw Error(Errc::InvalidState, "the peer connection is closed");
  return pc_;
}

std::unique_ptr<NativeDataChannel> NativePeerConnection::createDataChannel(
    const std::string& label, const DataChannelInit& init) {
  auto channel = connection()->createDataChannel(label, init);
  std::uint64_t key = nextKey_->fetch_add(1);
  hookChannel(*channel, sink_, key);
  return std::make_unique<NativeDataChannel>(std::move(channel), key);
}

void NativePeerConnection::closeConnection() {
  std::shared_ptr<PeerConnection> pc;
  {
    std::lock_guard lock(mutex_);
    pc = pc_;
  }
  if (pc) pc->close();
}

void NativePeerConnection::close() {
  std::shared_ptr<PeerConnection> pc;
  {
    std::lock_guard lock(mutex_);
    pc.swap(pc_);
  }
  if (pc) pc->close();
  // The destructor stops the connection's callbacks, unless a concurrent call still holds it:
  // then the closed sink drops whatever they queue.
  pc.reset();
  sink_->close();
}

bool NativePeerConnection::closed() const {
  std::lock_guard lock(mutex_);
  return !pc_;
}

}  // namespace ifmesh::python
