#include "rtc/dcep.hpp"

#include "big_endian.hpp"
#include "ifmesh/error.hpp"

namespace ifmesh::rtc::dcep {

namespace {

constexpr std::uint8_t kAck = 0x02;
constexpr std::uint8_t kOpen = 0x03;
constexpr std::size_t kOpenHeader = 12;

using detail::put16;
using detail::put32;
std::uint16_t get16(std::span<const std::byte> d, std::size_t at) {
  return detail::get16(d.data() + at);
}
std::uint32_t get32(std::span<const std::byte> d, std::size_t at) {
  return detail::get32(d.data() + at);
}

bool knownType(std::uint8_t t) {
  switch (t) {
    case 0x00:
    case 0x01:
    case 0x02:
    case 0x80:
    case 0x81:
    case 0x82:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::vector<std::byte> encodeOpen(const Open& open) {
  if (open.label.size() > 0xffff || open.protocol.size() > 0xffff)
    throw Error(Errc::InvalidArgument, "DCEP label and protocol must be shorter than 64 KiB");
  std::vector<std::byte> out;
  out.reserve(kOpenHeader + open.label.size() + open.protocol.size());
  out.push_back(static_cast<std::byte>(kOpen));
  out.push_back(static_cast<std::byte>(open.channelType));
  put16(out, open.priority);
  put32(out, open.reliabilityParameter);
  put16(out, static_cast<std::uint16_t>(open.label.size()));
  put16(out, static_cast<std::uint16_t>(open.protocol.size()));
  for (char c : open.label) out.push_back(static_cast<std::byte>(c));
  for (char c : open.protocol) out.push_back(static_cast<std::byte>(c));
  return out;
}

std::vector<std::byte> encodeAck() {
  return {static_cast<std::byte>(kAck)};
}

Message decode(std::span<const std::byte> data) {
  if (data.empty()) throw Error(Errc::MalformedDcep, "empty message");
  auto type = std::to_integer<std::uint8_t>(data[0]);
  if (type == kAck) {
    if (data.size() != 1) throw Error(Errc::MalformedDcep, "ACK with trailing bytes");
    return Ack{};
  }
  if (type != kOpen)
    throw Error(Errc::MalformedDcep, "unknown message type " + std::to_string(type));
  if (data.size() < kOpenHeader) throw Error(Errc::MalformedDcep, "truncated OPEN header");
  auto channelType = std::to_integer<std::uint8_t>(data[1]);
  if (!knownType(channelType))
    throw Error(Errc::MalformedDcep, "unknown channel type " + std::to_string(channelType));
  Open open;
  open.channelType = static_cast<ChannelType>(channelType);
  open.priority = get16(data, 2);
  open.reliabilityParameter = get32(data, 4);
  std::size_t labelLength = get16(data, 8);
  std::size_t protocolLength = get16(data, 10);
  if (data.size() != kOpenHeader + labelLength + protocolLength)
    throw Error(Errc::MalformedDcep, "OPEN length fields do not match the message size");
  auto text = [&](std::size_t at, std::size_t n) {
    return std::string(reinterpret_cast<const char*>(data.data() + at), n);
  };
  open.label = text(kOpenHeader, labelLength);
  open.protocol = text(kOpenHeader + labelLength, protocolLength);
  return open;
}

bool isOrdered(ChannelType type) {
  return (static_cast<std::uint8_t>(type) & 0x80) == 0;
}
bool isReliable(ChannelType type) {
  return (static_cast<std::uint8_t>(type) & 0x7f) == 0;
}

}  // namespace ifmesh::rtc::dcep
