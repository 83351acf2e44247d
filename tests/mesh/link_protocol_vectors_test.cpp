// The test vectors of docs/link-protocol.md, checked with the library's own functions. Every
// literal here is copied from the document; a change to either must change both.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>

#include "ifmesh/identity.hpp"
#include "ifmesh/ifmessage.hpp"
#include "ifmesh/witness.hpp"
#include "mesh/frame_compression.hpp"
#include "mesh/link_auth.hpp"
#include "mesh/link_codec.hpp"

namespace ifmesh {
namespace {

// Vector 1: the key (RFC 8032, section 7.1, TEST 1).
constexpr const char* kSeedHex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr const char* kPublicKeyHex =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr const char* kPublicKey = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
constexpr const char* kPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";
constexpr const char* kPkcs8PrefixHex = "302e020100300506032b657004220420";

// Vector 2: the hello signature.
constexpr const char* kFingerprint =
    "00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:"
    "1F";
constexpr const char* kHelloInput =
    R"(["ifmesh-hello-v1","agent-a",1234567890123,"00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F","agent-b"])";
constexpr const char* kHelloSignature =
    "IJKiRdPUJnwoFbm3JxjGnoHdn8a0zCi7yZgaS2n1rbxprjhellU5EchWLj3DG8Wcua3flR8NjlLsflo8USHLDQ==";
constexpr const char* kHelloFrame =
    R"({"compress":["zstd"],"fp":"00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F","inc":1234567890123,"lanes":[0,3,17,0],"peer":987654321,"recv":17,"sig":"IJKiRdPUJnwoFbm3JxjGnoHdn8a0zCi7yZgaS2n1rbxprjhellU5EchWLj3DG8Wcua3flR8NjlLsflo8USHLDQ==","t":"hello","v":1})";

// Vector 3: the IFMessage signature.
constexpr const char* kMessageInput =
    R"(["ifmesh-msg-v1","6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e","2026-01-02T03:04:05.678Z",2,"agent-a","agent-b","2.1",7,"high","trace-0001",1234567890123,{"n":42,"nested":{"a":null,"b":true},"text":"grüße"}])";
constexpr const char* kMessageSignature =
    "TIAX2BuZT1K4Py99IbKbwVtfZgzRK5t43OWky0Sh7Iw1XTsU8czl1HGfphvoM0FYufGlnfZIG7VqxtTAkcvhAg==";
constexpr const char* kMessageWire =
    R"({"destination":"agent-b","id":"6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e","incarnation":1234567890123,"level":2,"payload":{"n":42,"nested":{"a":null,"b":true},"text":"grüße"},"priority":"high","sequence_num":7,"signature":"TIAX2BuZT1K4Py99IbKbwVtfZgzRK5t43OWky0Sh7Iw1XTsU8czl1HGfphvoM0FYufGlnfZIG7VqxtTAkcvhAg==","source":"agent-a","timestamp":"2026-01-02T03:04:05.678Z","trace_id":"trace-0001","version":"2.1"})";
constexpr const char* kMessageFrame =
    R"({"t":"msg","s":5,"h":0,"l":1,"a":3,"m":{"destination":"agent-b","id":"6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e","incarnation":1234567890123,"level":2,"payload":{"n":42,"nested":{"a":null,"b":true},"text":"grüße"},"priority":"high","sequence_num":7,"signature":"TIAX2BuZT1K4Py99IbKbwVtfZgzRK5t43OWky0Sh7Iw1XTsU8czl1HGfphvoM0FYufGlnfZIG7VqxtTAkcvhAg==","source":"agent-a","timestamp":"2026-01-02T03:04:05.678Z","trace_id":"trace-0001","version":"2.1"}})";
constexpr const char* kAckNormal = R"({"seq":17,"t":"ack"})";
constexpr const char* kAckHigh = R"({"l":1,"seq":3,"t":"ack"})";

// Vector 4: a compressed channel message and the batch inside it.
constexpr const char* kBatch =
    R"({"t":"batch","f":[{"t":"msg","s":18,"h":0,"a":9,"m":{"destination":"agent-b","id":"0b3e5c7a-1d2f-4e6a-9b8c-7d6e5f4a3b21","incarnation":1234567890123,"level":2,"payload":{"reading":1,"sensor":"temperature","unit":"celsius"},"sequence_num":18,"signature":"KzkIyrRlKt+HL2R4OOc3d1fQqlPTJoSN99H27LtmPr0chwd5Sxz/jXN66PRVQjzDMYyMT6SCHyStTkNxCCJuDg==","source":"agent-a","timestamp":"2026-01-02T03:04:06.001Z","version":"2.1"}},{"t":"msg","s":19,"h":0,"m":{"destination":"agent-b","id":"1c4f6d8b-2e3a-4f7b-8c9d-8e7f6a5b4c32","incarnation":1234567890123,"level":2,"payload":{"reading":2,"sensor":"temperature","unit":"celsius"},"sequence_num":19,"signature":"uIR5UuuumDI6AxjLifVWZO1qPPYkqLD/ZOgcEBVARAbCsCb89Vo9O650Mdqbkz6zydaHwO/ySc1JUXtBVN/vAw==","source":"agent-a","timestamp":"2026-01-02T03:04:06.002Z","version":"2.1"}},{"t":"msg","s":20,"h":0,"m":{"destination":"agent-b","id":"2d5a7e9c-3f4b-4a8c-9dae-9f8a7b6c5d43","incarnation":1234567890123,"level":2,"payload":{"reading":3,"sensor":"temperature","unit":"celsius"},"sequence_num":20,"signature":"TqMDNdO2aXQPvthEonyyeWvx8dL+Znp0s2GlISYIPflozpJi3BUrG4aDRtzH8BrOERSRs8PDLcNJti8gIATkBw==","source":"agent-a","timestamp":"2026-01-02T03:04:06.003Z","version":"2.1"}},{"l":3,"seq":4,"t":"ack"}]})";
constexpr const char* kCompressedHex =
    "49465a3128b52ffd60d7034d120046a77f28e0cccc0328efbda88fdbb5180bd7"
    "05abc3d71df042c9839c0009c51020b4cb46ec34618619e6c301690077007500"
    "8ff9388d77a831d88d78f3b2deef7667772fa30a51aba2ec2445150a71fea0aa"
    "4558daa66d353573a55913db2dcdad6a68622a4f3bd2e8dfd7dccbd766ff3606"
    "fffd0fe43afeb8ceb7fe88fbde4beb3e7e49ef675e56d07dfef231dc5bb8bfbd"
    "fc4cee58fbfbfd2302fde5e39d4311e42f5f4000d310210c06c44453e994d1c1"
    "a0d88a645490343c0e06960cb37692e090f0405026fd90c934c4bc1ea1aac3b2"
    "26141052c13a8ec106e9285f9794d58803a0177459383e349e82bf1f86e39ef8"
    "35ecfc6d91f3792e72bcdb99fbc497bf43b1e3706fbcddff7e08f26ff397d00d"
    "0f0eac478ff568348e96d0c95e1668b12a8dc1199a225358160319735d128d08"
    "47a380611ce8ba2058362ee200a1b08f86278ae2c1943d44abd6284bda84ed46"
    "ed6a6a2b5753a33669e268d7a955da6e52862cf9f93c145079b83b2fff02511a"
    "60e995e88d68a5d209d1692bad7f7fe3e1ceb7c7051f86cf6b727f29dde774d1"
    "4253513c3015d721931c696015cf28d9c0152e2a87a7670d2c1184078b88836c"
    "3c60b7610f05caa323a89c6ebe0b404457101d843d8e1f3890e91dcc2001d74b"
    "4f1a124e258a243d65ab51b8daacb9b1b666aeb03435698b66b63685275d69ad"
    "0f8a4e626259f4840308942963e20a1b00712518de64076a560148011c4a6381"
    "c1792920bd00c28064d6c119406607a7a040fac7e500885bb9c89c6b47194356"
    "895307819a414ce3586af18047784720fa9e0a460dd30e";

std::string unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

std::string pemBody(const std::string& pem) {
  std::string body;
  std::istringstream lines(pem);
  for (std::string line; std::getline(lines, line);)
    if (!line.starts_with("-----")) body += line;
  return body;
}

AgentIdentity vectorIdentity() {
  auto path = std::filesystem::temp_directory_path() /
              ("ifmesh-link-vectors-" + std::to_string(::getpid()) + "-" + newTraceId() + ".pem");
  { std::ofstream(path) << kPem; }
  auto identity = AgentIdentity::loadPem(path.string());
  std::filesystem::remove(path);
  return identity;
}

// The single frame of a channel message, as type T (a failure names what was decoded instead).
template <typename T>
T decodeOnly(std::string_view text) {
  auto frames = detail::link::decode(text);
  EXPECT_EQ(frames.size(), 1u);
  if (frames.empty() || !std::holds_alternative<T>(frames[0])) {
    ADD_FAILURE() << "not the expected frame type: " << text.substr(0, 80);
    return T{};
  }
  return std::get<T>(frames[0]);
}

TEST(LinkProtocolVectors, KeyIsTheRfc8032Key) {
  EXPECT_EQ(base64Decode(pemBody(kPem)), unhex(kPkcs8PrefixHex) + unhex(kSeedHex));
  EXPECT_EQ(base64Decode(kPublicKey), unhex(kPublicKeyHex));
  EXPECT_EQ(vectorIdentity().publicKey(), kPublicKey);
}

TEST(LinkProtocolVectors, HelloSignature) {
  EXPECT_EQ(detail::helloSigningInput("agent-a", 1234567890123, kFingerprint, "agent-b"),
            kHelloInput);
  EXPECT_EQ(vectorIdentity().sign(kHelloInput), kHelloSignature);

  auto hello = decodeOnly<detail::link::Hello>(kHelloFrame);
  EXPECT_EQ(hello.version, 1u);
  EXPECT_EQ(hello.signature, kHelloSignature);
  EXPECT_EQ(hello.fingerprint, kFingerprint);
  EXPECT_EQ(hello.incarnation, 1234567890123u);
  EXPECT_EQ(hello.aboutIncarnation, 987654321u);
  EXPECT_EQ(hello.delivered, (detail::link::LaneCounts{0, 3, 17, 0}));
  EXPECT_TRUE(hello.readsZstd);
  // Encoding the decoded hello gives the same bytes (keys in order, as section 1 has them).
  EXPECT_EQ(detail::link::encode(hello), kHelloFrame);
  // Encoding the decoded hello gives a frame that decodes to the same values.
  auto again = decodeOnly<detail::link::Hello>(detail::link::encode(hello));
  EXPECT_EQ(again.delivered, hello.delivered);
  EXPECT_EQ(again.signature, hello.signature);
  auto key = PublicKey::parse(kPublicKey);
  ASSERT_TRUE(key);
  EXPECT_EQ(detail::verifyHello(hello, &*key, "agent-a", "agent-b", kFingerprint), nullptr);
  // Bound to both ids and to the DTLS session's fingerprint.
  EXPECT_STREQ(detail::verifyHello(hello, &*key, "agent-a", "agent-c", kFingerprint),
               "bad_signature");
  EXPECT_STREQ(detail::verifyHello(hello, &*key, "agent-a", "agent-b", "00:01"),
               "fingerprint_mismatch");
}

TEST(LinkProtocolVectors, MessageSignature) {
  IFMessage m;
  m.id = "6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e";
  m.timestamp = "2026-01-02T03:04:05.678Z";
  m.level = 2;
  m.source = "agent-a";
  m.destination = "agent-b";
  m.version = "2.1";
  m.payload = nlohmann::json::parse(R"({"text":"grüße","n":42,"nested":{"b":true,"a":null}})");
  m.sequence = 7;
  m.priority = MessagePriority::High;
  m.traceId = "trace-0001";
  m.incarnation = 1234567890123;
  EXPECT_EQ(canonicalForm(m), kMessageInput);
  EXPECT_EQ(std::string(kMessageInput).size(), 202u);
  signMessage(m, vectorIdentity());
  EXPECT_EQ(m.signature, kMessageSignature);
  EXPECT_EQ(serialize(m), kMessageWire);

  // The frame as it arrives: lane 1, link sequence 5, direct, acknowledging 3.
  auto frame = decodeOnly<detail::link::Msg>(kMessageFrame);
  EXPECT_EQ(frame.lane, 1);
  EXPECT_EQ(frame.seq, 5u);
  EXPECT_EQ(frame.ack, 3u);
  EXPECT_EQ(frame.hops, 0);
  const auto& received = frame.message;
  EXPECT_EQ(canonicalForm(received), kMessageInput);
  auto key = PublicKey::parse(kPublicKey);
  ASSERT_TRUE(key);
  EXPECT_TRUE(verifyMessage(received, *key));
  EXPECT_EQ(detail::link::encodeMsg(5, 0, 1, 3, kMessageWire), kMessageFrame);
}

TEST(LinkProtocolVectors, AckFrames) {
  auto normal = decodeOnly<detail::link::Ack>(kAckNormal);
  EXPECT_EQ(normal.lane, static_cast<int>(MessagePriority::Normal));
  EXPECT_EQ(normal.seq, 17u);
  EXPECT_EQ(detail::link::encode(normal), kAckNormal);
  auto high = decodeOnly<detail::link::Ack>(kAckHigh);
  EXPECT_EQ(high.lane, static_cast<int>(MessagePriority::High));
  EXPECT_EQ(high.seq, 3u);
  EXPECT_EQ(detail::link::encode(high), kAckHigh);
}

TEST(LinkProtocolVectors, CompressedBatch) {
  std::string binary = unhex(kCompressedHex);
  ASSERT_EQ(binary.size(), 599u);
  EXPECT_EQ(binary.substr(0, 4), "IFZ1");
  // The receiver's default bound: maxMessageBytes + 64 KiB + 64.
  std::string text = detail::decompressFrame(std::as_bytes(std::span(binary.data(), binary.size())),
                                             256 * 1024 + 64 * 1024 + 64);
  EXPECT_EQ(text, kBatch);
  EXPECT_EQ(text.size(), 1239u);

  auto frames = detail::link::decode(text);
  ASSERT_EQ(frames.size(), 4u);
  auto key = PublicKey::parse(kPublicKey);
  ASSERT_TRUE(key);
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(std::holds_alternative<detail::link::Msg>(frames[i])) << i;
    const auto& msg = std::get<detail::link::Msg>(frames[i]);
    EXPECT_EQ(msg.lane, static_cast<int>(MessagePriority::Normal));
    EXPECT_EQ(msg.seq, 18 + i);
    EXPECT_EQ(msg.message.sequence, 18 + i);
    EXPECT_TRUE(verifyMessage(msg.message, *key)) << i;
  }
  EXPECT_EQ(std::get<detail::link::Msg>(frames[0]).ack, 9u);
  ASSERT_TRUE(std::holds_alternative<detail::link::Ack>(frames[3]));
  EXPECT_EQ(std::get<detail::link::Ack>(frames[3]).lane, static_cast<int>(MessagePriority::Low));
  EXPECT_EQ(std::get<detail::link::Ack>(frames[3]).seq, 4u);
  // The same bytes through the receiver's binary path.
  EXPECT_EQ(detail::link::decodeBinary(std::as_bytes(std::span(binary.data(), binary.size())),
                                       256 * 1024 + 64 * 1024 + 64)
                .size(),
            4u);
}

}  // namespace
}  // namespace ifmesh
