#include "ifmesh/rtc/data_channel.hpp"

#include "rtc/channel_core.hpp"

namespace ifmesh {

DataChannel::DataChannel(std::shared_ptr<detail::ChannelCore> core) : core_(std::move(core)) {}
DataChannel::~DataChannel() = default;

void DataChannel::send(std::string_view text) {
  core_->send(std::as_bytes(std::span(text.data(), text.size())), true);
}
void DataChannel::send(std::span<const std::byte> binary) {
  core_->send(binary, false);
}
void DataChannel::sendUrgent(std::string_view text) {
  core_->send(std::as_bytes(std::span(text.data(), text.size())), true, true);
}
void DataChannel::sendUrgent(std::span<const std::byte> binary) {
  core_->send(binary, false, true);
}
void DataChannel::close() {
  core_->close();
}

bool DataChannel::isOpen() const {
  return core_->state() == detail::ChannelCore::State::Open;
}
std::string DataChannel::label() const {
  return core_->label();
}
std::string DataChannel::protocol() const {
  return core_->protocol();
}
std::optional<std::uint16_t> DataChannel::id() const {
  return core_->id();
}
std::size_t DataChannel::bufferedAmount() const {
  return core_->bufferedAmount();
}
std::size_t DataChannel::maxMessageSize() const {
  return core_->maxMessageSize();
}
void DataChannel::setBufferedAmountLowThreshold(std::size_t bytes) {
  core_->setBufferedAmountLowThreshold(bytes);
}
std::uint64_t DataChannel::bytesSent() const {
  return core_->bytesSent();
}
std::uint64_t DataChannel::bytesAcknowledged() const {
  return core_->bytesAcknowledged();
}

void DataChannel::setSendWindow(std::size_t bytes) {
  core_->setSendWindow(bytes);
}

void DataChannel::onOpen(std::function<void()> cb) {
  core_->setOnOpen(std::move(cb));
}
void DataChannel::onClose(std::function<void()> cb) {
  core_->setOnClose(std::move(cb));
}
void DataChannel::onError(std::function<void(const std::string&)> cb) {
  core_->onError.set(std::move(cb));
}
void DataChannel::onMessage(std::function<void(Message&&)> cb) {
  core_->setOnMessage(std::move(cb));
}
void DataChannel::onBufferedAmountLow(std::function<void()> cb) {
  core_->onBufferedAmountLow.set(std::move(cb));
}

}  // namespace ifmesh
