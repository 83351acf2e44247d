#pragma once
// The Data Channel Establishment Protocol (RFC 8832): DATA_CHANNEL_OPEN and DATA_CHANNEL_ACK,
// carried on the channel's own SCTP stream with PPID 50.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace ifmesh::rtc::dcep {

// SCTP payload protocol identifiers (RFC 8831 §8, RFC 8832 §8.1).
constexpr std::uint32_t kPpidDcep = 50;
constexpr std::uint32_t kPpidString = 51;
constexpr std::uint32_t kPpidBinaryPartial = 52;  // deprecated; accepted, never sent
constexpr std::uint32_t kPpidBinary = 53;
constexpr std::uint32_t kPpidStringPartial = 54;  // deprecated; accepted, never sent
constexpr std::uint32_t kPpidStringEmpty = 56;
constexpr std::uint32_t kPpidBinaryEmpty = 57;

enum class ChannelType : std::uint8_t {
  Reliable = 0x00,
  PartialReliableRexmit = 0x01,
  PartialReliableTimed = 0x02,
  ReliableUnordered = 0x80,
  PartialReliableRexmitUnordered = 0x81,
  PartialReliableTimedUnordered = 0x82,
};

struct Open {
  ChannelType channelType = ChannelType::Reliable;
  std::uint16_t priority = 0;
  std::uint32_t reliabilityParameter = 0;
  std::string label;
  std::string protocol;
};
struct Ack {};
using Message = std::variant<Open, Ack>;

std::vector<std::byte> encodeOpen(const Open& open);
std::vector<std::byte> encodeAck();
// Throws ifmesh::Error(MalformedDcep) for anything that is not exactly one valid message.
Message decode(std::span<const std::byte> data);

bool isOrdered(ChannelType type);
bool isReliable(ChannelType type);

}  // namespace ifmesh::rtc::dcep
