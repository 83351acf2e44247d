#include "rtc/channel_core.hpp"

#include "ifmesh/error.hpp"

namespace ifmesh::detail {

using rtc::SctpSendOptions;
namespace dcep = rtc::dcep;

ChannelCore::ChannelCore(rtc::IoLoop& loop, std::string label, const DataChannelInit& init)
    : loop_(loop),
      label_(std::move(label)),
      protocol_(init.protocol),
      ordered_(init.ordered),
      negotiated_(init.negotiatedId.has_value()) {
  if (init.maxRetransmits && init.maxPacketLifeTime)
    throw Error(Errc::InvalidArgument, "maxRetransmits and maxPacketLifeTime are exclusive");
  if (label_.size() > 65535 || protocol_.size() > 65535)
    throw Error(Errc::InvalidArgument, "label and protocol must be shorter than 64 KiB");
  options_.ordered = ordered_;
  if (init.maxRetransmits) {
    options_.policy = SctpSendOptions::Policy::MaxRetransmits;
    options_.value = *init.maxRetransmits;
  } else if (init.maxPacketLifeTime) {
    options_.policy = SctpSendOptions::Policy::MaxLifetimeMs;
    options_.value = *init.maxPacketLifeTime;
  }
  if (init.negotiatedId) {
    if (*init.negotiatedId > 1023)
      throw Error(Errc::InvalidArgument, "negotiated id must be below 1024");
    id_ = *init.negotiatedId;
  }
}

ChannelCore::ChannelCore(rtc::IoLoop& loop, std::uint16_t stream, const dcep::Open& open)
    : loop_(loop), label_(open.label), protocol_(open.protocol) {
  id_ = stream;
  ordered_ = dcep::isOrdered(open.channelType);
  options_.ordered = ordered_;
  switch (static_cast<std::uint8_t>(open.channelType) & 0x7f) {
    case 0x01:
      options_.policy = SctpSendOptions::Policy::MaxRetransmits;
      options_.value = open.reliabilityParameter;
      break;
    case 0x02:
      options_.policy = SctpSendOptions::Policy::MaxLifetimeMs;
      options_.value = open.reliabilityParameter;
      break;
    default:
      break;
  }
  acked_ = true;  // we answer with the ACK ourselves
}

std::optional<std::uint16_t> ChannelCore::id() const {
  int id = id_.load();
  if (id < 0) return std::nullopt;
  return static_cast<std::uint16_t>(id);
}

dcep::Open ChannelCore::openMessage() const {
  dcep::Open open;
  std::uint8_t type = 0x00;
  if (options_.policy == SctpSendOptions::Policy::MaxRetransmits) type = 0x01;
  if (options_.policy == SctpSendOptions::Policy::MaxLifetimeMs) type = 0x02;
  if (!ordered_) type |= 0x80;
  open.channelType = static_cast<dcep::ChannelType>(type);
  open.priority = 256;  // "normal" (RFC 8831 §6.4 / W3C priority mapping)
  open.reliabilityParameter = options_.value;
  open.label = label_;
  open.protocol = protocol_;
  return open;
}

void ChannelCore::attach(std::shared_ptr<rtc::SctpTransport> transport, std::size_t maxMessageSize,
                         bool ackReceived) {
  transport_ = std::move(transport);
  if (auto window = sendWindow_.load()) transport_->setSendWindow(window);
  maxMessageSize_ = maxMessageSize;
  acked_ = ackReceived;
  state_ = State::Open;
  notifyOpen();
}

void ChannelCore::send(std::span<const std::byte> bytes, bool text, bool urgent) {
  if (state_.load() != State::Open)
    throw Error(Errc::ChannelClosed, "channel '" + label_ + "' is not open");
  if (bytes.size() > maxMessageSize_.load())
    throw Error(Errc::MessageTooLarge,
                std::to_string(bytes.size()) + " bytes exceeds the channel's " +
                    std::to_string(maxMessageSize_.load()) + "-byte max-message-size");
  std::uint32_t ppid;
  std::vector<std::byte> payload;
  if (bytes.empty()) {
    // RFC 8831 §6.6: empty messages travel as one zero byte with the "empty" PPID.
    payload.assign(1, std::byte{0});
    ppid = text ? dcep::kPpidStringEmpty : dcep::kPpidBinaryEmpty;
  } else {
    payload.assign(bytes.begin(), bytes.end());
    ppid = text ? dcep::kPpidString : dcep::kPpidBinary;
  }
  // Until the peer acknowledges the DCEP OPEN, everything is sent ordered and reliable so it
  // cannot overtake the OPEN (RFC 8832 §6).
  SctpSendOptions options = acked_.load() ? options_ : SctpSendOptions{};
  buffered_ += payload.size();
  transport_->enqueue(static_cast<std::uint16_t>(id_.load()), ppid, std::move(payload), options,
                      urgent);
}

std::uint64_t ChannelCore::bytesAcknowledged() const {
  // transport_ is set before state_ becomes Open, and kept.
  return state_.load() == State::Open ? transport_->bytesAcknowledged() : 0;
}

void ChannelCore::setSendWindow(std::size_t bytes) {
  sendWindow_ = bytes;
  // transport_ is set before state_ becomes Open, so an open channel's transport is there.
  if (state_.load() == State::Open) transport_->setSendWindow(bytes);
}

void ChannelCore::sent(std::size_t bytes) {
  bytesSent_ += bytes;
  std::size_t before = buffered_.fetch_sub(bytes);
  std::size_t after = before - bytes;
  std::size_t threshold = lowThreshold_.load();
  if (before > threshold && after <= threshold) onBufferedAmountLow();
}

void ChannelCore::deliver(std::uint32_t ppid, std::vector<std::byte>&& data) {
  if (state_.load() == State::Closed) return;
  Message message;
  switch (ppid) {
    case dcep::kPpidString:
    case dcep::kPpidStringPartial:
      message = std::string(reinterpret_cast<const char*>(data.data()), data.size());
      break;
    case dcep::kPpidStringEmpty:
      message = std::string();
      break;
    case dcep::kPpidBinaryEmpty:
      message = Binary();
      break;
    case dcep::kPpidBinary:
    case dcep::kPpidBinaryPartial:
      message = std::move(data);
      break;
    default:
      reportError("message with unknown PPID " + std::to_string(ppid) + " dropped");
      return;
  }
  std::function<void(Message &&)> cb;
  {
    std::lock_guard lock(callbackMutex_);
    if (!messageCb_ || !pending_.empty()) {
      pending_.push_back(std::move(message));  // kept until a handler is set
      return;
    }
    cb = messageCb_;
  }
  cb(std::move(message));
}

void ChannelCore::setOnMessage(std::function<void(Message&&)> cb) {
  {
    std::lock_guard lock(callbackMutex_);
    messageCb_ = std::move(cb);
    if (!messageCb_ || pending_.empty()) return;
  }
  loop_.post([self = shared_from_this()] { self->drainPending(); });
}

void ChannelCore::drainPending() {
  for (;;) {
    std::function<void(Message &&)> cb;
    Message message;
    {
      std::lock_guard lock(callbackMutex_);
      if (!messageCb_ || pending_.empty()) return;
      cb = messageCb_;
      message = std::move(pending_.front());
      pending_.pop_front();
    }
    cb(std::move(message));
  }
}

void ChannelCore::setOnOpen(std::function<void()> cb) {
  {
    std::lock_guard lock(callbackMutex_);
    openCb_ = std::move(cb);
  }
  // A handler set after the channel opened still hears about it, once.
  if (state_.load() == State::Open) loop_.post([self = shared_from_this()] { self->notifyOpen(); });
}

void ChannelCore::setOnClose(std::function<void()> cb) {
  {
    std::lock_guard lock(callbackMutex_);
    closeCb_ = std::move(cb);
  }
  if (state_.load() == State::Closed)
    loop_.post([self = shared_from_this()] { self->notifyClose(); });
}

void ChannelCore::notifyOpen() {
  std::function<void()> cb;
  {
    std::lock_guard lock(callbackMutex_);
    if (openNotified_ || !openCb_) return;
    openNotified_ = true;
    cb = openCb_;
  }
  cb();
}

void ChannelCore::notifyClose() {
  std::function<void()> cb;
  {
    std::lock_guard lock(callbackMutex_);
    if (closeNotified_ || !closeCb_) return;
    closeNotified_ = true;
    cb = closeCb_;
  }
  cb();
}

void ChannelCore::close() {
  State expected = State::Open;
  if (state_.compare_exchange_strong(expected, State::Closing)) {
    // Queued behind this channel's pending messages: nothing accepted before close() is lost.
    transport_->enqueueReset(static_cast<std::uint16_t>(id_.load()));
    return;
  }
  expected = State::Connecting;
  if (state_.compare_exchange_strong(expected, State::Closed))
    loop_.post([self = shared_from_this()] { self->notifyClose(); });
}

void ChannelCore::remoteReset() {
  State previous = state_.exchange(State::Closed);
  if (previous == State::Closed) return;
  if (previous == State::Open && transport_)
    transport_->enqueueReset(static_cast<std::uint16_t>(id_.load()));
  notifyClose();
}

void ChannelCore::markClosed() {
  if (state_.exchange(State::Closed) == State::Closed) return;
  notifyClose();
}

void ChannelCore::reportError(const std::string& message) {
  onError(message);
}

}  // namespace ifmesh::detail
