#pragma once
// STUN messages (RFC 8489) as ICE uses them (RFC 8445 section 7, RFC 7675): the codec of the
// ICE agent that is to demultiplex every connection of an I/O thread on one UDP socket. Sans-IO:
// bytes in, a message out, and the reverse. Every datagram is hostile until parseStun has read
// it; a wrong FINGERPRINT or a malformed attribute refuses the whole datagram, and
// MESSAGE-INTEGRITY is checked apart (checkIntegrity), with the key of the connection that the
// USERNAME names.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ifmesh::ice {

inline constexpr std::uint32_t kStunMagicCookie = 0x2112A442;
inline constexpr std::size_t kStunHeaderBytes = 20;
// At most this many attributes in a message; more refuse it (a datagram of empty attributes
// would otherwise make thousands of entries).
inline constexpr std::size_t kMaxStunAttributes = 64;

enum class StunClass : std::uint8_t { Request = 0, Indication = 1, Success = 2, Error = 3 };

namespace stun_method {
inline constexpr std::uint16_t kBinding = 0x001;
}

namespace stun_attribute {
inline constexpr std::uint16_t kUsername = 0x0006;
inline constexpr std::uint16_t kMessageIntegrity = 0x0008;
inline constexpr std::uint16_t kErrorCode = 0x0009;
inline constexpr std::uint16_t kUnknownAttributes = 0x000A;
inline constexpr std::uint16_t kXorMappedAddress = 0x0020;
inline constexpr std::uint16_t kPriority = 0x0024;
inline constexpr std::uint16_t kUseCandidate = 0x0025;
inline constexpr std::uint16_t kSoftware = 0x8022;
inline constexpr std::uint16_t kFingerprint = 0x8028;
inline constexpr std::uint16_t kIceControlled = 0x8029;
inline constexpr std::uint16_t kIceControlling = 0x802A;
}  // namespace stun_attribute

using TransactionId = std::array<std::uint8_t, 12>;

// The bytes of text (a USERNAME, a password as the key of MESSAGE-INTEGRITY), as the codec takes
// them.
inline std::span<const std::uint8_t> stunBytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

struct StunAttribute {
  std::uint16_t type = 0;
  std::vector<std::uint8_t> value;  // without its padding
};

struct StunMessage {
  std::uint16_t method = stun_method::kBinding;  // 12 bits
  StunClass messageClass = StunClass::Request;
  TransactionId transactionId{};
  // In wire order, without MESSAGE-INTEGRITY and FINGERPRINT (serializeStun adds those).
  std::vector<StunAttribute> attributes;

  // The first attribute of `type`, or nullptr.
  const StunAttribute* find(std::uint16_t type) const;
  void add(std::uint16_t type, std::span<const std::uint8_t> value);
  void add(std::uint16_t type, std::string_view text);
};

// What parseStun read: the message, and where its MESSAGE-INTEGRITY is.
struct ParsedStun {
  StunMessage message;
  // Offset of the MESSAGE-INTEGRITY attribute in the datagram, if there is one; what follows it
  // (except FINGERPRINT) is ignored, as RFC 8489 section 14.5 says.
  std::optional<std::size_t> integrityOffset;
  std::array<std::uint8_t, 20> integrity{};
  bool fingerprint = false;  // a FINGERPRINT was there (and right: a wrong one refuses)
};

// Whether a datagram can be STUN (RFC 7983: first byte 0-3) with the magic cookie: cheap, to
// tell STUN from DTLS and TURN ChannelData arriving on one socket.
bool looksLikeStun(std::span<const std::uint8_t> datagram);

// Reads one STUN message that fills `datagram` exactly, or nothing with `error` set (when given)
// to the reason: short, a bad header, length or cookie, an attribute that overruns, a
// MESSAGE-INTEGRITY or FINGERPRINT of the wrong size, a FINGERPRINT that is not last or does not
// match, more than kMaxStunAttributes attributes.
std::optional<ParsedStun> parseStun(std::span<const std::uint8_t> datagram,
                                    std::string* error = nullptr);

// Whether the MESSAGE-INTEGRITY parseStun found in `datagram` is the HMAC-SHA1 of the message
// with `key` (ICE's short-term credential: the password's bytes). False without one.
bool checkIntegrity(std::span<const std::uint8_t> datagram, const ParsedStun& parsed,
                    std::span<const std::uint8_t> key);

// The wire form of `message`: its attributes padded with zeros, then MESSAGE-INTEGRITY with
// `integrityKey` when that is not empty, then FINGERPRINT when asked.
std::vector<std::uint8_t> serializeStun(const StunMessage& message,
                                        std::span<const std::uint8_t> integrityKey,
                                        bool fingerprint);

// A transport address: 4 bytes of `ip` for IPv4, 16 for IPv6.
struct StunAddress {
  bool ipv6 = false;
  std::array<std::uint8_t, 16> ip{};
  std::uint16_t port = 0;
  bool operator==(const StunAddress&) const = default;
};

// XOR-MAPPED-ADDRESS values (RFC 8489 section 14.2).
std::vector<std::uint8_t> encodeXorAddress(const StunAddress& address,
                                           const TransactionId& transactionId);
std::optional<StunAddress> decodeXorAddress(std::span<const std::uint8_t> value,
                                            const TransactionId& transactionId);

// ERROR-CODE values (RFC 8489 section 14.8): code 300-699, a UTF-8 reason.
struct StunError {
  int code = 0;
  std::string reason;
};
std::vector<std::uint8_t> encodeErrorCode(int code, std::string_view reason);
std::optional<StunError> decodeErrorCode(std::span<const std::uint8_t> value);

// PRIORITY (32 bits) and ICE-CONTROLLING / ICE-CONTROLLED (64-bit tie-breaker) values.
std::vector<std::uint8_t> encodeUint32(std::uint32_t value);
std::vector<std::uint8_t> encodeUint64(std::uint64_t value);
std::optional<std::uint32_t> decodeUint32(std::span<const std::uint8_t> value);
std::optional<std::uint64_t> decodeUint64(std::span<const std::uint8_t> value);

}  // namespace ifmesh::ice
