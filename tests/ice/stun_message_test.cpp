// The STUN codec against RFC 5769's test vectors (a Binding request with ICE's attributes and
// short-term credentials, IPv4 and IPv6 responses), its own round trips, and hostile datagrams.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ice/stun_message.hpp"

namespace ifmesh::ice {
namespace {

std::vector<std::uint8_t> bytes(std::initializer_list<unsigned> list) {
  std::vector<std::uint8_t> out;
  for (unsigned b : list) out.push_back(static_cast<std::uint8_t>(b));
  return out;
}

const std::string kPassword = "VOkJxbRl1RmTxUk/WvJxBt";
const TransactionId kTransaction = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                    0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

// RFC 5769 2.1.
const std::vector<std::uint8_t> kRequest = bytes(
    {0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
     0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
     0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
     0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
     0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
     0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
     0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf});

// RFC 5769 2.2.
const std::vector<std::uint8_t> kIpv4Response =
    bytes({0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
           0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74,
           0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01,
           0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43, 0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99,
           0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b,
           0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96});

// RFC 5769 2.3.
const std::vector<std::uint8_t> kIpv6Response = bytes(
    {0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
     0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
     0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
     0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
     0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
     0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c});

std::string valueText(const StunAttribute* a) {
  return a ? std::string(a->value.begin(), a->value.end()) : "<missing>";
}

TEST(StunMessage, ReadsTheSampleRequestOfRfc5769) {
  std::string error;
  auto parsed = parseStun(kRequest, &error);
  ASSERT_TRUE(parsed) << error;
  const auto& m = parsed->message;
  EXPECT_EQ(m.method, stun_method::kBinding);
  EXPECT_EQ(m.messageClass, StunClass::Request);
  EXPECT_EQ(m.transactionId, kTransaction);
  EXPECT_EQ(valueText(m.find(stun_attribute::kSoftware)), "STUN test client");
  EXPECT_EQ(valueText(m.find(stun_attribute::kUsername)), "evtj:h6vY");
  EXPECT_EQ(decodeUint32(m.find(stun_attribute::kPriority)->value), 0x6e0001ffu);
  EXPECT_EQ(decodeUint64(m.find(stun_attribute::kIceControlled)->value), 0x932ff9b151263b36u);
  EXPECT_TRUE(parsed->fingerprint);
  EXPECT_TRUE(checkIntegrity(kRequest, *parsed, stunBytes(kPassword)));
  EXPECT_FALSE(checkIntegrity(kRequest, *parsed, stunBytes("VOkJxbRl1RmTxUk/WvJxBu")));
  EXPECT_TRUE(looksLikeStun(kRequest));
}

TEST(StunMessage, ReadsTheSampleResponsesOfRfc5769) {
  for (const auto* vector : {&kIpv4Response, &kIpv6Response}) {
    std::string error;
    auto parsed = parseStun(*vector, &error);
    ASSERT_TRUE(parsed) << error;
    const auto& m = parsed->message;
    EXPECT_EQ(m.messageClass, StunClass::Success);
    EXPECT_EQ(valueText(m.find(stun_attribute::kSoftware)), "test vector");
    EXPECT_TRUE(checkIntegrity(*vector, *parsed, stunBytes(kPassword)));
    auto mapped =
        decodeXorAddress(m.find(stun_attribute::kXorMappedAddress)->value, m.transactionId);
    ASSERT_TRUE(mapped);
    StunAddress expected;
    if (vector == &kIpv4Response) {
      expected.ip = {192, 0, 2, 1};
    } else {
      expected.ipv6 = true;
      expected.ip = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
                     0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
    }
    expected.port = 32853;
    EXPECT_EQ(*mapped, expected);
    EXPECT_EQ(encodeXorAddress(expected, m.transactionId),
              m.find(stun_attribute::kXorMappedAddress)->value);
  }
}

TEST(StunMessage, WritesWhatItReadsWithIntegrityAndFingerprint) {
  StunMessage m;
  m.method = stun_method::kBinding;
  m.messageClass = StunClass::Error;
  m.transactionId = kTransaction;
  m.add(stun_attribute::kUsername, "peer:me");
  m.add(stun_attribute::kErrorCode, encodeErrorCode(487, "Role Conflict"));
  m.add(stun_attribute::kIceControlling, encodeUint64(0x0102030405060708u));
  m.add(stun_attribute::kUseCandidate, std::span<const std::uint8_t>{});
  const auto wire = serializeStun(m, stunBytes(kPassword), true);
  EXPECT_EQ(wire.size() % 4, 0u);
  std::string error;
  auto parsed = parseStun(wire, &error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->message.messageClass, StunClass::Error);
  EXPECT_EQ(parsed->message.method, stun_method::kBinding);
  ASSERT_EQ(parsed->message.attributes.size(), m.attributes.size());
  for (std::size_t i = 0; i < m.attributes.size(); ++i) {
    EXPECT_EQ(parsed->message.attributes[i].type, m.attributes[i].type);
    EXPECT_EQ(parsed->message.attributes[i].value, m.attributes[i].value);
  }
  auto err = decodeErrorCode(parsed->message.find(stun_attribute::kErrorCode)->value);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, 487);
  EXPECT_EQ(err->reason, "Role Conflict");
  EXPECT_TRUE(parsed->fingerprint);
  EXPECT_TRUE(checkIntegrity(wire, *parsed, stunBytes(kPassword)));
  // Without integrity or fingerprint, neither is there.
  const auto bareWire = serializeStun(m, {}, false);
  auto bare = parseStun(bareWire);
  ASSERT_TRUE(bare);
  EXPECT_FALSE(bare->integrityOffset);
  EXPECT_FALSE(bare->fingerprint);
  EXPECT_FALSE(checkIntegrity(bareWire, *bare, stunBytes(kPassword)));
}

TEST(StunMessage, EveryClassAndMethodBitSurvives) {
  for (std::uint16_t method : {0x001, 0x003, 0x0ff, 0xfff})
    for (auto c :
         {StunClass::Request, StunClass::Indication, StunClass::Success, StunClass::Error}) {
      StunMessage m;
      m.method = method;
      m.messageClass = c;
      auto parsed = parseStun(serializeStun(m, {}, false));
      ASSERT_TRUE(parsed);
      EXPECT_EQ(parsed->message.method, method);
      EXPECT_EQ(parsed->message.messageClass, c);
    }
}

TEST(StunMessage, RefusesHostileDatagramsWithAReason) {
  auto refused = [](const std::vector<std::uint8_t>& datagram, const std::string& reason) {
    std::string error;
    EXPECT_FALSE(parseStun(datagram, &error)) << reason;
    EXPECT_EQ(error, reason);
  };
  refused({}, "shorter than a STUN header");
  auto v = kRequest;
  v[0] |= 0x80;
  refused(v, "not STUN: the first two bits are not 0");
  v = kRequest;
  v[4] ^= 1;
  refused(v, "no magic cookie");
  v = kRequest;
  v[3] += 1;
  refused(v, "length not a multiple of 4");
  v = kRequest;
  v.push_back(0);
  refused(v, "length does not match the datagram");
  v = kRequest;
  v[v.size() - 1] ^= 1;
  refused(v, "FINGERPRINT does not match");
  v = kRequest;
  v[23] = 0xff;  // SOFTWARE claims 255 bytes
  refused(v, "attribute overruns the message");
  // A changed byte under MESSAGE-INTEGRITY fails it.
  StunMessage m;
  m.add(stun_attribute::kUsername, "a:b");
  auto wire = serializeStun(m, stunBytes(kPassword), false);
  wire[kStunHeaderBytes + 4] ^= 1;
  auto parsed = parseStun(wire);
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(checkIntegrity(wire, *parsed, stunBytes(kPassword)));
  // More attributes than a message may have.
  StunMessage many;
  for (std::size_t i = 0; i <= kMaxStunAttributes; ++i)
    many.add(stun_attribute::kSoftware, std::span<const std::uint8_t>{});
  refused(serializeStun(many, {}, false), "too many attributes");
  // A FINGERPRINT in the middle.
  StunMessage middle;
  middle.add(stun_attribute::kFingerprint, encodeUint32(0));
  middle.add(stun_attribute::kSoftware, "x");
  refused(serializeStun(middle, {}, false), "FINGERPRINT not the last attribute");
  EXPECT_FALSE(decodeXorAddress(bytes({0, 3, 0, 0, 1, 2, 3, 4}), kTransaction));
  EXPECT_FALSE(decodeErrorCode(bytes({0, 0, 7, 0})));
  EXPECT_FALSE(decodeUint64(bytes({1, 2, 3})));
}

TEST(StunMessage, AttributesAfterIntegrityAreIgnored) {
  StunMessage m;
  m.add(stun_attribute::kUsername, "a:b");
  auto wire = serializeStun(m, stunBytes(kPassword), false);
  const std::vector<std::uint8_t> extra = {0x80, 0x22, 0x00, 0x01, 'z', 0, 0, 0};
  wire.insert(wire.end(), extra.begin(), extra.end());
  wire[3] = static_cast<std::uint8_t>(wire.size() - kStunHeaderBytes);
  auto parsed = parseStun(wire);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->message.find(stun_attribute::kSoftware), nullptr);
  EXPECT_TRUE(checkIntegrity(wire, *parsed, stunBytes(kPassword)));
}

}  // namespace
}  // namespace ifmesh::ice
