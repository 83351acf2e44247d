#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "ifmesh/export.hpp"
#include "ifmesh/rtc/types.hpp"

namespace ifmesh {

namespace detail {
class ChannelCore;
class PeerCore;
}  // namespace detail
class PeerConnection;

// A WebRTC DataChannel, made by PeerConnection::createDataChannel or handed to onDataChannel.
// Methods may be called from any thread; callbacks run on its connection's I/O thread (see
// PeerConnection), so they must not block.
class IFMESH_API DataChannel {
 public:
  ~DataChannel();
  DataChannel(const DataChannel&) = delete;
  DataChannel& operator=(const DataChannel&) = delete;

  // Queue a message. Throws ifmesh::Error (MessageTooLarge, ChannelClosed) on a send that cannot
  // be accepted; an accepted message is never dropped while the channel stays open.
  void send(std::string_view text);
  void send(std::span<const std::byte> binary);
  // The same, for a message that must not wait for the send window (setSendWindow): it and every
  // message queued before it (a channel keeps its order) go to SCTP at once. For rare, small
  // messages, such as a protocol's control traffic, that a backlog held back by the window
  // would otherwise delay by its round trips.
  void sendUrgent(std::string_view text);
  void sendUrgent(std::span<const std::byte> binary);
  void close();

  bool isOpen() const;
  std::string label() const;
  std::string protocol() const;
  // SCTP stream id; empty until assigned (a channel created before DTLS picks its role).
  std::optional<std::uint16_t> id() const;
  // Bytes of accepted messages not yet handed to SCTP. What usrsctp holds (queued in its send
  // buffer, or sent and not yet acknowledged) is not counted: see setSendWindow.
  std::size_t bufferedAmount() const;
  std::size_t maxMessageSize() const;
  void setBufferedAmountLowThreshold(std::size_t bytes);
  // Bytes this channel has handed to SCTP since it opened: what left bufferedAmount.
  std::uint64_t bytesSent() const;
  // The most bytes the connection's SCTP association may hold, unsent or unacknowledged, before
  // further messages wait in bufferedAmount (all the connection's channels share it; the last
  // value set wins). A message enters when it fits in what the window leaves, or alone when the
  // association holds nothing, whatever its size. 0, the default, lets usrsctp take up to its whole
  // send buffer (256 KiB, or the max-message-size if larger), where a backlog on a slow link waits
  // unseen by bufferedAmount.
  void setSendWindow(std::size_t bytes);
  // Bytes the peer has acknowledged on this connection's SCTP association (all its channels)
  // since it opened, counted while a send window is set: the link's delivery, what a sender
  // measures its rate by.
  std::uint64_t bytesAcknowledged() const;

  void onOpen(std::function<void()> cb);
  void onClose(std::function<void()> cb);
  void onError(std::function<void(const std::string&)> cb);
  void onMessage(std::function<void(Message&&)> cb);
  void onBufferedAmountLow(std::function<void()> cb);

 private:
  friend class PeerConnection;
  friend class detail::PeerCore;
  explicit DataChannel(std::shared_ptr<detail::ChannelCore> core);
  std::shared_ptr<detail::ChannelCore> core_;
};

}  // namespace ifmesh
