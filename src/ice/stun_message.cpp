#include "ice/stun_message.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstring>

#include "big_endian.hpp"

namespace ifmesh::ice {

namespace {

using detail::get16;
using detail::get32;
using detail::put16;
using detail::put32;

constexpr std::uint32_t kFingerprintXor = 0x5354554e;
constexpr std::size_t kIntegrityBytes = 20;
constexpr std::size_t kFingerprintBytes = 4;

std::size_t padded(std::size_t length) {
  return (length + 3) & ~std::size_t{3};
}

// The message type's 14 bits: the method's 12 with the class's 2 between them (RFC 8489 5).
std::uint16_t messageType(std::uint16_t method, StunClass c) {
  const auto cls = static_cast<std::uint16_t>(c);
  return static_cast<std::uint16_t>((method & 0x000f) | ((method & 0x0070) << 1) |
                                    ((method & 0x0f80) << 2) | ((cls & 1) << 4) | ((cls & 2) << 7));
}

// CRC-32 of ISO-HDLC (the one of zlib), which FINGERPRINT uses (RFC 8489 14.7).
std::uint32_t crc32(std::span<const std::uint8_t> bytes) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xffffffffu;
  for (std::uint8_t b : bytes) c = table[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

std::array<std::uint8_t, kIntegrityBytes> hmacSha1(std::span<const std::uint8_t> key,
                                                   std::span<const std::uint8_t> bytes) {
  std::array<std::uint8_t, kIntegrityBytes> mac{};
  unsigned int length = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), bytes.data(), bytes.size(), mac.data(),
       &length);
  return mac;
}

void setLength(std::vector<std::uint8_t>& out, std::size_t bodyBytes) {
  detail::store16(out.data() + 2, static_cast<std::uint16_t>(bodyBytes));
}

void appendAttribute(std::vector<std::uint8_t>& out, std::uint16_t type,
                     std::span<const std::uint8_t> value) {
  put16(out, type);
  put16(out, static_cast<std::uint16_t>(value.size()));
  out.insert(out.end(), value.begin(), value.end());
  out.resize(out.size() + padded(value.size()) - value.size(), 0);
}

// What an XOR-MAPPED-ADDRESS's address is XORed with: the magic cookie, then the transaction id.
std::array<std::uint8_t, 16> xorMask(const TransactionId& transactionId) {
  std::array<std::uint8_t, 16> mask{};
  for (int i = 0; i < 4; ++i)
    mask[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(kStunMagicCookie >> (24 - 8 * i));
  for (std::size_t i = 0; i < transactionId.size(); ++i) mask[4 + i] = transactionId[i];
  return mask;
}

std::optional<ParsedStun> refuse(std::string* error, const char* why) {
  if (error) *error = why;
  return std::nullopt;
}

}  // namespace

const StunAttribute* StunMessage::find(std::uint16_t type) const {
  for (const auto& a : attributes)
    if (a.type == type) return &a;
  return nullptr;
}

void StunMessage::add(std::uint16_t type, std::span<const std::uint8_t> value) {
  attributes.push_back({type, std::vector<std::uint8_t>(value.begin(), value.end())});
}

void StunMessage::add(std::uint16_t type, std::string_view text) {
  add(type, stunBytes(text));
}

bool looksLikeStun(std::span<const std::uint8_t> datagram) {
  return datagram.size() >= kStunHeaderBytes && (datagram[0] & 0xc0) == 0 &&
         get32(datagram.data() + 4) == kStunMagicCookie;
}

std::optional<ParsedStun> parseStun(std::span<const std::uint8_t> datagram, std::string* error) {
  if (datagram.size() < kStunHeaderBytes) return refuse(error, "shorter than a STUN header");
  const std::uint8_t* d = datagram.data();
  const std::uint16_t type = get16(d);
  if (type & 0xc000) return refuse(error, "not STUN: the first two bits are not 0");
  if (get32(d + 4) != kStunMagicCookie) return refuse(error, "no magic cookie");
  const std::size_t length = get16(d + 2);
  if (length % 4 != 0) return refuse(error, "length not a multiple of 4");
  if (kStunHeaderBytes + length != datagram.size())
    return refuse(error, "length does not match the datagram");

  ParsedStun parsed;
  StunMessage& m = parsed.message;
  m.method =
      static_cast<std::uint16_t>((type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2));
  m.messageClass = static_cast<StunClass>(((type >> 4) & 1) | ((type >> 7) & 2));
  std::copy_n(d + 8, m.transactionId.size(), m.transactionId.begin());

  std::size_t count = 0;
  for (std::size_t at = kStunHeaderBytes; at < datagram.size();) {
    if (datagram.size() - at < 4) return refuse(error, "truncated attribute header");
    const std::uint16_t attrType = get16(d + at);
    const std::size_t attrLength = get16(d + at + 2);
    if (padded(attrLength) > datagram.size() - at - 4)
      return refuse(error, "attribute overruns the message");
    if (++count > kMaxStunAttributes) return refuse(error, "too many attributes");
    const std::uint8_t* value = d + at + 4;
    const std::size_t next = at + 4 + padded(attrLength);
    if (attrType == stun_attribute::kFingerprint) {
      if (attrLength != kFingerprintBytes) return refuse(error, "FINGERPRINT not 4 bytes");
      if (next != datagram.size()) return refuse(error, "FINGERPRINT not the last attribute");
      if (get32(value) != (crc32(datagram.first(at)) ^ kFingerprintXor))
        return refuse(error, "FINGERPRINT does not match");
      parsed.fingerprint = true;
    } else if (parsed.integrityOffset) {
      // After MESSAGE-INTEGRITY only FINGERPRINT counts; the rest is ignored.
    } else if (attrType == stun_attribute::kMessageIntegrity) {
      if (attrLength != kIntegrityBytes) return refuse(error, "MESSAGE-INTEGRITY not 20 bytes");
      parsed.integrityOffset = at;
      std::copy_n(value, kIntegrityBytes, parsed.integrity.begin());
    } else {
      m.attributes.push_back({attrType, std::vector<std::uint8_t>(value, value + attrLength)});
    }
    at = next;
  }
  return parsed;
}

bool checkIntegrity(std::span<const std::uint8_t> datagram, const ParsedStun& parsed,
                    std::span<const std::uint8_t> key) {
  if (!parsed.integrityOffset || *parsed.integrityOffset > datagram.size()) return false;
  // The HMAC covers the message up to MESSAGE-INTEGRITY, with the length field counting up to
  // and including it (RFC 8489 14.5).
  std::vector<std::uint8_t> covered(
      datagram.begin(), datagram.begin() + static_cast<std::ptrdiff_t>(*parsed.integrityOffset));
  setLength(covered, *parsed.integrityOffset + 4 + kIntegrityBytes - kStunHeaderBytes);
  const auto mac = hmacSha1(key, covered);
  return CRYPTO_memcmp(mac.data(), parsed.integrity.data(), mac.size()) == 0;
}

std::vector<std::uint8_t> serializeStun(const StunMessage& message,
                                        std::span<const std::uint8_t> integrityKey,
                                        bool fingerprint) {
  std::vector<std::uint8_t> out;
  put16(out, messageType(message.method, message.messageClass));
  put16(out, 0);
  put32(out, kStunMagicCookie);
  out.insert(out.end(), message.transactionId.begin(), message.transactionId.end());
  for (const auto& a : message.attributes) appendAttribute(out, a.type, a.value);
  if (!integrityKey.empty()) {
    setLength(out, out.size() + 4 + kIntegrityBytes - kStunHeaderBytes);
    const auto mac = hmacSha1(integrityKey, out);
    appendAttribute(out, stun_attribute::kMessageIntegrity, mac);
  }
  if (fingerprint) {
    setLength(out, out.size() + 4 + kFingerprintBytes - kStunHeaderBytes);
    std::vector<std::uint8_t> value;
    put32(value, crc32(out) ^ kFingerprintXor);
    appendAttribute(out, stun_attribute::kFingerprint, value);
  }
  setLength(out, out.size() - kStunHeaderBytes);
  return out;
}

std::vector<std::uint8_t> encodeXorAddress(const StunAddress& address,
                                           const TransactionId& transactionId) {
  std::vector<std::uint8_t> out{0, static_cast<std::uint8_t>(address.ipv6 ? 0x02 : 0x01)};
  put16(out, static_cast<std::uint16_t>(address.port ^ (kStunMagicCookie >> 16)));
  const auto mask = xorMask(transactionId);
  const std::size_t n = address.ipv6 ? 16 : 4;
  for (std::size_t i = 0; i < n; ++i) out.push_back(address.ip[i] ^ mask[i]);
  return out;
}

std::optional<StunAddress> decodeXorAddress(std::span<const std::uint8_t> value,
                                            const TransactionId& transactionId) {
  StunAddress a;
  if (value.size() == 8 && value[1] == 0x01)
    a.ipv6 = false;
  else if (value.size() == 20 && value[1] == 0x02)
    a.ipv6 = true;
  else
    return std::nullopt;
  a.port = static_cast<std::uint16_t>(get16(value.data() + 2) ^ (kStunMagicCookie >> 16));
  const auto mask = xorMask(transactionId);
  const std::size_t n = a.ipv6 ? 16 : 4;
  for (std::size_t i = 0; i < n; ++i) a.ip[i] = value[4 + i] ^ mask[i];
  return a;
}

std::vector<std::uint8_t> encodeErrorCode(int code, std::string_view reason) {
  std::vector<std::uint8_t> out(4 + reason.size());
  out[2] = static_cast<std::uint8_t>((code / 100) & 0x7);
  out[3] = static_cast<std::uint8_t>(code % 100);
  std::copy(reason.begin(), reason.end(), out.begin() + 4);
  return out;
}

std::optional<StunError> decodeErrorCode(std::span<const std::uint8_t> value) {
  if (value.size() < 4) return std::nullopt;
  const int hundreds = value[2] & 0x7, number = value[3];
  if (hundreds < 3 || hundreds > 6 || number > 99) return std::nullopt;
  return StunError{hundreds * 100 + number, std::string(value.begin() + 4, value.end())};
}

std::vector<std::uint8_t> encodeUint32(std::uint32_t value) {
  std::vector<std::uint8_t> out;
  put32(out, value);
  return out;
}

std::vector<std::uint8_t> encodeUint64(std::uint64_t value) {
  std::vector<std::uint8_t> out;
  put32(out, static_cast<std::uint32_t>(value >> 32));
  put32(out, static_cast<std::uint32_t>(value));
  return out;
}

std::optional<std::uint32_t> decodeUint32(std::span<const std::uint8_t> value) {
  if (value.size() != 4) return std::nullopt;
  return get32(value.data());
}

std::optional<std::uint64_t> decodeUint64(std::span<const std::uint8_t> value) {
  if (value.size() != 8) return std::nullopt;
  return static_cast<std::uint64_t>(get32(value.data())) << 32 | get32(value.data() + 4);
}

}  // namespace ifmesh::ice
