#pragma once
// The state behind one public DataChannel. Sends may come from any thread; everything else runs on
// the I/O loop. The channel owns its bufferedAmount accounting; bytes go out through the
// association's SctpTransport queue.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include "ifmesh/rtc/types.hpp"
#include "lazy_deque.hpp"
#include "rtc/callback_slot.hpp"
#include "rtc/dcep.hpp"
#include "rtc/io_loop.hpp"
#include "rtc/sctp_transport.hpp"

namespace ifmesh::detail {

class ChannelCore : public std::enable_shared_from_this<ChannelCore> {
 public:
  enum class State { Connecting, Open, Closing, Closed };

  ChannelCore(rtc::IoLoop& loop, std::string label, const DataChannelInit& init);
  // A channel the peer opened with DCEP.
  ChannelCore(rtc::IoLoop& loop, std::uint16_t stream, const rtc::dcep::Open& open);

  // Any thread. The bytes are copied once, into the buffer the send queue keeps.
  // urgent: the message does not wait for the send window (DataChannel::sendUrgent).
  void send(std::span<const std::byte> bytes, bool text, bool urgent = false);
  void close();
  State state() const { return state_.load(); }
  std::size_t bufferedAmount() const { return buffered_.load(); }
  std::size_t maxMessageSize() const { return maxMessageSize_.load(); }
  void setBufferedAmountLowThreshold(std::size_t bytes) { lowThreshold_ = bytes; }
  std::uint64_t bytesSent() const { return bytesSent_.load(); }
  std::uint64_t bytesAcknowledged() const;
  void setSendWindow(std::size_t bytes);
  const std::string& label() const { return label_; }
  const std::string& protocol() const { return protocol_; }
  std::optional<std::uint16_t> id() const;
  bool negotiated() const { return negotiated_; }

  rtc::CallbackSlot<const std::string&> onError;
  rtc::CallbackSlot<> onBufferedAmountLow;
  void setOnOpen(std::function<void()> cb);
  void setOnClose(std::function<void()> cb);
  void setOnMessage(std::function<void(Message&&)> cb);

  // Loop thread, driven by PeerCore.
  void assignId(std::uint16_t id) { id_ = id; }
  rtc::dcep::Open openMessage() const;
  void attach(std::shared_ptr<rtc::SctpTransport> transport, std::size_t maxMessageSize,
              bool ackReceived);
  void ackReceived() { acked_ = true; }
  bool acked() const { return acked_; }
  void deliver(std::uint32_t ppid, std::vector<std::byte>&& data);
  void sent(std::size_t bytes);
  void remoteReset();  // the peer reset its outgoing stream: the channel is closing
  void markClosed();   // association gone or close completed
  void reportError(const std::string& message);

 private:
  void notifyOpen();
  void notifyClose();
  void drainPending();

  rtc::IoLoop& loop_;
  std::string label_;
  std::string protocol_;
  bool ordered_ = true;
  rtc::SctpSendOptions options_;
  bool negotiated_ = false;
  std::atomic<int> id_{-1};
  std::atomic<State> state_{State::Connecting};
  std::atomic<bool> acked_{false};
  std::atomic<std::size_t> buffered_{0};
  std::atomic<std::size_t> lowThreshold_{0};
  std::atomic<std::uint64_t> bytesSent_{0};
  std::atomic<std::size_t> sendWindow_{0};  // applied to the transport when it attaches
  std::atomic<std::size_t> maxMessageSize_{65536};
  std::shared_ptr<rtc::SctpTransport> transport_;  // set before state_ becomes Open

  std::mutex callbackMutex_;
  std::function<void()> openCb_;
  std::function<void()> closeCb_;
  std::function<void(Message&&)> messageCb_;
  bool openNotified_ = false;
  bool closeNotified_ = false;
  LazyDeque<Message> pending_;  // messages that arrived before onMessage was set
};

}  // namespace ifmesh::detail
