// SDP, ICE candidate and DCEP codecs: real-world inputs, round trips and hostile inputs.
#include <gtest/gtest.h>

#include <random>

#include "ifmesh/error.hpp"
#include "rtc/candidate.hpp"
#include "rtc/dcep.hpp"
#include "rtc/sdp.hpp"

namespace ifmesh::rtc {
namespace {

// A data-channel offer as Chromium writes it (candidate extension tokens included).
const char* kChromiumOffer =
    "v=0\r\n"
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=candidate:3982721584 1 udp 2113937151 127.0.0.1 54321 typ host generation 0 "
    "network-cost 999\r\n"
    "a=ice-ufrag:Xj4p\r\n"
    "a=ice-pwd:H4lpSE0WqW+vl0m5bFv9bQ3a\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "5B:1D:6E:6C:2A:44:76:0F:9E:3C:11:CB:92:A7:0C:E0:61:6F:41:C9:7E:05:5D:14:29:1B:9A:78:0D:3E:"
    "B2:45\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=sctp-port:5000\r\n"
    "a=max-message-size:262144\r\n";

using Type = sdp::SessionDescription::Type;

TEST(Sdp, ParsesAChromiumOffer) {
  auto d = sdp::parse(kChromiumOffer, Type::Offer);
  EXPECT_EQ(d.iceUfrag, "Xj4p");
  EXPECT_EQ(d.icePwd, "H4lpSE0WqW+vl0m5bFv9bQ3a");
  EXPECT_EQ(d.fingerprint.size(), 32u);
  EXPECT_EQ(d.fingerprint[0], 0x5B);
  EXPECT_EQ(d.setup, sdp::SessionDescription::Setup::ActPass);
  EXPECT_EQ(d.mid, "0");
  EXPECT_EQ(d.sctpPort, 5000);
  EXPECT_EQ(d.maxMessageSize, 262144u);
  ASSERT_EQ(d.candidates.size(), 1u);
  EXPECT_EQ(d.sessionId, 4611731400430051336u);
  EXPECT_NO_THROW(parseCandidate(d.candidates[0]));
}

TEST(Sdp, AcceptsLfOnlyAndSessionLevelAttributes) {
  std::string firefox =
      "v=0\no=mozilla 1 0 IN IP4 0.0.0.0\ns=-\nt=0 0\n"
      "a=fingerprint:sha-256 "
      "5B:1D:6E:6C:2A:44:76:0F:9E:3C:11:CB:92:A7:0C:E0:61:6F:41:C9:7E:05:5D:14:29:1B:9A:78:0D:3E:"
      "B2:45\n"
      "a=ice-options:trickle\n"
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\nc=IN IP4 0.0.0.0\n"
      "a=ice-ufrag:abcd\na=ice-pwd:0123456789012345678901\na=setup:active\na=mid:data\n"
      "a=sctp-port:5001\n";
  auto d = sdp::parse(firefox, Type::Answer);
  EXPECT_EQ(d.setup, sdp::SessionDescription::Setup::Active);
  EXPECT_EQ(d.mid, "data");
  EXPECT_EQ(d.sctpPort, 5001);
  EXPECT_FALSE(d.maxMessageSize.has_value());
}

TEST(Sdp, RoundTrips) {
  auto d = sdp::parse(kChromiumOffer, Type::Offer);
  d.endOfCandidates = true;
  auto again = sdp::parse(sdp::serialize(d), Type::Offer);
  EXPECT_EQ(again.iceUfrag, d.iceUfrag);
  EXPECT_EQ(again.icePwd, d.icePwd);
  EXPECT_EQ(again.fingerprint, d.fingerprint);
  EXPECT_EQ(again.candidates, d.candidates);
  EXPECT_TRUE(again.endOfCandidates);
  EXPECT_EQ(again.maxMessageSize, d.maxMessageSize);
}

// Our mux tag: carried when set, absent otherwise (what Chromium sends has none), and only a
// 32-bit value above zero is taken.
TEST(Sdp, MuxTagRoundTripsAndIsValidated) {
  auto d = sdp::parse(kChromiumOffer, Type::Offer);
  EXPECT_FALSE(d.muxTag);
  EXPECT_EQ(sdp::serialize(d).find("x-ifmesh-mux"), std::string::npos);
  d.muxTag = 4294967295u;
  auto text = sdp::serialize(d);
  EXPECT_NE(text.find("a=x-ifmesh-mux:4294967295\r\n"), std::string::npos);
  EXPECT_EQ(sdp::parse(text, Type::Offer).muxTag, 4294967295u);
  for (const char* bad : {"0", "4294967296", "-1", "12ab", ""}) {
    std::string wrong = text;
    wrong.replace(wrong.find("4294967295"), 10, bad);
    EXPECT_THROW(sdp::parse(wrong, Type::Offer), Error) << bad;
  }
}

TEST(Sdp, AnswerRejectsAudioAndVideoInPlace) {
  std::string offer = kChromiumOffer;
  auto data = offer.find("m=application");
  offer.insert(data, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:a\r\n");
  offer += "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:v\r\n";
  auto d = sdp::parse(offer, Type::Offer);
  ASSERT_EQ(d.otherMedia.size(), 2u);
  d.type = Type::Answer;
  std::string answer = sdp::serialize(d);
  auto audio = answer.find("m=audio 0 UDP/TLS/RTP/SAVPF 111");
  auto app = answer.find("m=application 9");
  auto video = answer.find("m=video 0 UDP/TLS/RTP/SAVPF 96");
  ASSERT_NE(audio, std::string::npos);
  ASSERT_NE(video, std::string::npos);
  EXPECT_LT(audio, app);
  EXPECT_LT(app, video);
  EXPECT_NE(answer.find("a=group:BUNDLE 0\r\n"), std::string::npos);
}

TEST(Sdp, RejectsMalformedInput) {
  std::string good = kChromiumOffer;
  auto without = [&](const std::string& needle) {
    std::string s = good;
    auto p = s.find(needle);
    s.erase(p, s.find('\n', p) - p + 1);
    return s;
  };
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  std::vector<std::string> cases = {
      "",
      "x",
      "v=1\r\n",
      "hello world",
      without("m=application"),
      without("a=ice-ufrag"),
      without("a=ice-pwd"),
      without("a=fingerprint"),
      replaced("a=ice-ufrag:Xj4p", "a=ice-ufrag:X"),
      replaced("a=ice-pwd:H4lpSE0WqW+vl0m5bFv9bQ3a", "a=ice-pwd:short"),
      replaced("a=fingerprint:sha-256 5B", "a=fingerprint:sha-256 5"),
      replaced("a=fingerprint:sha-256 5B:1D", "a=fingerprint:sha-256 5B1D"),
      replaced("a=fingerprint:sha-256", "a=fingerprint:md5"),
      replaced("a=sctp-port:5000", "a=sctp-port:99999"),
      replaced("a=sctp-port:5000", "a=sctp-port:x"),
      // Found by fuzzing: the legacy form accepted port 0, which a=sctp-port rejects.
      replaced("a=sctp-port:5000", "a=sctpmap:0000 webrtc-datachannel 1024"),
      replaced("a=max-message-size:262144", "a=max-message-size:-1"),
      replaced("a=setup:actpass", "a=setup:sideways"),
      replaced("s=-", "nonsense"),
      std::string(70 * 1024, 'a'),
  };
  for (const auto& c : cases) {
    try {
      sdp::parse(c, Type::Offer);
      ADD_FAILURE() << "accepted:\n" << c.substr(0, 200);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::MalformedSdp);
    }
  }
}

TEST(Sdp, EveryPrefixAndRandomCorruptionIsParsedOrRejectedCleanly) {
  std::string good = kChromiumOffer;
  for (std::size_t n = 0; n < good.size(); ++n) {
    try {
      sdp::parse(good.substr(0, n), Type::Offer);
    } catch (const Error&) {
    }
  }
  std::mt19937 rng(1234);
  for (int i = 0; i < 2000; ++i) {
    std::string s = good;
    for (int k = 0; k < 4; ++k) s[rng() % s.size()] = static_cast<char>(rng() % 256);
    try {
      sdp::parse(s, Type::Offer);
    } catch (const Error&) {
    }
  }
}

TEST(Candidate, ParsesBrowserAndLibniceForms) {
  auto c = parseCandidate(
      "candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 10.0.0.2 rport "
      "46154 generation 0 ufrag EsAw network-cost 999");
  EXPECT_EQ(c.foundation, "842163049");
  EXPECT_EQ(c.component, 1);
  EXPECT_EQ(c.transport, "udp");
  EXPECT_EQ(c.priority, 1677729535u);
  EXPECT_EQ(c.address, "203.0.113.7");
  EXPECT_EQ(c.port, 46154);
  EXPECT_EQ(c.type, "srflx");
  EXPECT_EQ(c.relatedAddress, "10.0.0.2");
  EXPECT_EQ(c.relatedPort, 46154);
  ASSERT_EQ(c.extensions.size(), 3u);
  EXPECT_EQ(c.extensions[1].second, "EsAw");
  auto again = parseCandidate(serializeCandidate(c));
  EXPECT_EQ(serializeCandidate(again), serializeCandidate(c));
  auto nice = parseCandidate("a=candidate:1 1 UDP 2013266431 127.0.0.1 40000 typ host\r\n");
  EXPECT_EQ(nice.transport, "udp");
  EXPECT_TRUE(isMdnsHostname("4f2c55d3-1b3e-4b8e-9d7e-3c1a9b2f0d11.local"));
  EXPECT_FALSE(isMdnsHostname("127.0.0.1"));
}

TEST(Candidate, RejectsMalformedLines) {
  for (const char* bad :
       {"", "candidate:", "foo:1 1 udp 1 1.2.3.4 5 typ host", "candidate:1 1 udp 1 1.2.3.4 5 host",
        "candidate:1 0 udp 1 1.2.3.4 5 typ host", "candidate:1 1 sctp 1 1.2.3.4 5 typ host",
        "candidate:1 1 udp 99999999999 1.2.3.4 5 typ host",
        "candidate:1 1 udp 1 1.2.3.4 65536 typ host", "candidate:1 1 udp 1 1.2.3.4 5 typ magic",
        "candidate:1 1 udp 1 1.2.3.4 5 typ host raddr", "candidate:1 1 udp 1 1.2.3.4 -5 typ host",
        // A value that would not survive being written out (the fuzzer found a line break).
        "candidate:1 1 tcp 1 1.2.3.4 5 typ host tcptype \r\n raddr 1.2.3.4"}) {
    try {
      parseCandidate(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::MalformedCandidate) << bad;
    }
  }
}

TEST(Dcep, OpenRoundTripsWithEveryChannelType) {
  for (auto type : {dcep::ChannelType::Reliable, dcep::ChannelType::PartialReliableRexmit,
                    dcep::ChannelType::PartialReliableTimed, dcep::ChannelType::ReliableUnordered,
                    dcep::ChannelType::PartialReliableRexmitUnordered,
                    dcep::ChannelType::PartialReliableTimedUnordered}) {
    dcep::Open open{type, 256, 1234567, "if-agent-messaging", "ifmesh-v1"};
    auto bytes = dcep::encodeOpen(open);
    ASSERT_EQ(bytes.size(), 12u + open.label.size() + open.protocol.size());
    EXPECT_EQ(bytes[0], std::byte{0x03});
    auto decoded = std::get<dcep::Open>(dcep::decode(bytes));
    EXPECT_EQ(decoded.channelType, type);
    EXPECT_EQ(decoded.priority, 256);
    EXPECT_EQ(decoded.reliabilityParameter, 1234567u);
    EXPECT_EQ(decoded.label, open.label);
    EXPECT_EQ(decoded.protocol, open.protocol);
  }
  EXPECT_TRUE(std::holds_alternative<dcep::Ack>(dcep::decode(dcep::encodeAck())));
  EXPECT_TRUE(dcep::isOrdered(dcep::ChannelType::Reliable));
  EXPECT_FALSE(dcep::isOrdered(dcep::ChannelType::ReliableUnordered));
  EXPECT_FALSE(dcep::isReliable(dcep::ChannelType::PartialReliableTimedUnordered));
}

TEST(Dcep, RejectsMalformedMessages) {
  auto good = dcep::encodeOpen({dcep::ChannelType::Reliable, 0, 0, "label", "proto"});
  std::vector<std::vector<std::byte>> cases = {
      {}, {std::byte{0x01}}, {std::byte{0x02}, std::byte{0}}};
  for (std::size_t n = 1; n < good.size(); ++n) cases.emplace_back(good.begin(), good.begin() + n);
  auto longer = good;
  longer.push_back(std::byte{0});
  cases.push_back(longer);
  auto badType = good;
  badType[1] = std::byte{0x05};
  cases.push_back(badType);
  for (const auto& c : cases) {
    try {
      dcep::decode(c);
      ADD_FAILURE() << "accepted " << c.size() << " bytes";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::MalformedDcep);
    }
  }
}

}  // namespace
}  // namespace ifmesh::rtc
