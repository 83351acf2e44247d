// The link frame codec (src/mesh/link_codec.hpp): every frame type both ways, and hostile
// bytes turned into Malformed frames, never exceptions.
#include "mesh/link_codec.hpp"

#include <gtest/gtest.h>

#include <tuple>

#include "mesh/frame_compression.hpp"
#include "mesh/ifmessage_json.hpp"
#include "mesh/link_frame_reader.hpp"

namespace ifmesh::detail::link {
namespace {

IFMessage sample() {
  IFMessage m;
  m.id = "m-1";
  m.timestamp = "2026-12-05T10:00:00.000Z";
  m.source = "alice";
  m.destination = "bob";
  m.sequence = 7;
  m.payload = {{"task", "summarise"}, {"n", 3}};
  return m;
}

std::string msgFrame(const std::string& extra, const std::string& payload = "{}") {
  return "{\"t\":\"msg\",\"s\":1" + extra + ",\"m\":" + test::withPayload(sample(), payload) + "}";
}

template <typename T>
T only(const std::vector<Frame>& frames) {
  EXPECT_EQ(frames.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<T>(frames.at(0)))
      << (std::holds_alternative<Malformed>(frames.at(0)) ? std::get<Malformed>(frames.at(0)).reason
                                                          : std::string("another frame type"));
  return std::get<T>(frames.at(0));
}

bool malformed(std::string_view text) {
  auto frames = decode(text);
  return frames.size() == 1 && std::holds_alternative<Malformed>(frames[0]);
}

TEST(LinkCodec, HelloRoundTrips) {
  Hello h;
  h.delivered = {1, 2, 3, 4};
  h.incarnation = 99;
  h.aboutIncarnation = 42;
  h.fingerprint = "AB:CD";
  h.signature = "c2ln";
  h.readsZstd = true;
  auto text = encode(h);
  const auto& back = only<Hello>(decode(text));
  EXPECT_EQ(back.version, kProtocolVersion);
  EXPECT_EQ(back.delivered, h.delivered);
  EXPECT_EQ(back.incarnation, 99u);
  EXPECT_EQ(back.aboutIncarnation, 42u);
  EXPECT_EQ(back.fingerprint, "AB:CD");
  EXPECT_EQ(back.signature, "c2ln");
  EXPECT_TRUE(back.readsZstd);
  EXPECT_NE(text.find(R"("compress":["zstd"])"), std::string::npos);
  // "recv" repeats the Normal lane for readers of the lane-less form.
  EXPECT_NE(text.find("\"recv\":3"), std::string::npos);
}

TEST(LinkCodec, MinimalHelloDefaults) {
  const auto& h = only<Hello>(decode(R"({"t":"hello","recv":5})"));
  EXPECT_EQ(h.version, 1u);
  EXPECT_EQ(h.delivered[static_cast<int>(MessagePriority::Normal)], 5u);
  EXPECT_EQ(h.delivered[0], 0u);
  EXPECT_EQ(h.incarnation, 0u);
  EXPECT_FALSE(h.aboutIncarnation);
  EXPECT_TRUE(h.signature.empty());
  EXPECT_FALSE(h.readsZstd);
  // Formats other than zstd are not for us; zstd among them is.
  EXPECT_FALSE(only<Hello>(decode(R"({"t":"hello","recv":0,"compress":["br"]})")).readsZstd);
  EXPECT_TRUE(only<Hello>(decode(R"({"t":"hello","recv":0,"compress":["br","zstd"]})")).readsZstd);
  EXPECT_EQ(only<Hello>(decode(R"({"t":"hello","recv":0,"v":2})")).version, 2u);
}

TEST(LinkCodec, MsgCarriesAnAckRequest) {
  auto json = serialize(sample());
  EXPECT_TRUE(only<Msg>(decode(encodeMsg(3, 0, 2, 0, json, true))).ackRequested);
  EXPECT_FALSE(only<Msg>(decode(encodeMsg(3, 0, 2, 0, json))).ackRequested);
  EXPECT_EQ(encodeMsg(3, 0, 2, 0, json).find("\"r\""), std::string::npos);
  EXPECT_LE(encodeMsg(UINT64_MAX, 0, 0, UINT64_MAX, json, true).size(), maxMsgFrameBytes(0, json));
  // Zero is no request; anything but an unsigned integer is a malformed frame.
  EXPECT_FALSE(only<Msg>(decode(msgFrame(",\"r\":0"))).ackRequested);
  EXPECT_TRUE(only<Msg>(decode(msgFrame(",\"r\":1"))).ackRequested);
  for (const char* bad : {"true", "-1", "\"1\"", "1.5", "null"})
    EXPECT_EQ(only<Malformed>(decode(msgFrame(std::string(",\"r\":") + bad))).reason,
              "bad ack request")
        << bad;
}

TEST(LinkCodec, MsgAndAckRoundTrip) {
  auto json = serialize(sample());
  const auto& m = only<Msg>(decode(encodeMsg(12, 2, 0, 9, json)));
  EXPECT_EQ(m.seq, 12u);
  EXPECT_EQ(m.hops, 2);
  EXPECT_EQ(m.lane, 0);
  EXPECT_EQ(m.ack, 9u);
  EXPECT_EQ(m.message.id, "m-1");
  EXPECT_EQ(serialize(m.message), json);
  const auto& normal = only<Msg>(decode(encodeMsg(1, 0, 2, 0, json)));
  EXPECT_EQ(normal.lane, 2);
  EXPECT_EQ(normal.ack, 0u);
  EXPECT_LE(encodeMsg(UINT64_MAX, 0, 0, UINT64_MAX, json).size(), maxMsgFrameBytes(0, json));

  const auto& a = only<Ack>(decode(encode(Ack{77, 1})));
  EXPECT_EQ(a.seq, 77u);
  EXPECT_EQ(a.lane, 1);
  EXPECT_EQ(encode(Ack{5, 2}), R"({"seq":5,"t":"ack"})");
}

TEST(LinkCodec, BatchesSplitInOrder) {
  std::vector<std::string> frames = {encode(Ack{1, 2}), msgFrame(",\"h\":2"), encode(Ack{3, 0})};
  auto decoded = decode(encodeBatch(frames));
  ASSERT_EQ(decoded.size(), 3u);
  EXPECT_EQ(std::get<Ack>(decoded[0]).seq, 1u);
  EXPECT_EQ(std::get<Msg>(decoded[1]).hops, 2);
  EXPECT_EQ(std::get<Msg>(decoded[1]).message.source, "alice");
  EXPECT_EQ(std::get<Ack>(decoded[2]).lane, 0);
  // One bad element spoils only itself.
  auto mixed = decode(R"({"t":"batch","f":[{"t":"ack","seq":1},7,{"t":"batch","f":[]}]})");
  ASSERT_EQ(mixed.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<Ack>(mixed[0]));
  EXPECT_TRUE(std::holds_alternative<Malformed>(mixed[1]));
  EXPECT_TRUE(std::holds_alternative<Malformed>(mixed[2]));
}

TEST(LinkCodec, CompressedMessagesDecode) {
  std::vector<std::string> frames(40, msgFrame(",\"h\":0"));
  auto text = encodeBatch(frames);
  auto z = compressFrame(text, 3);
  ASSERT_TRUE(z);
  auto bytes = std::as_bytes(std::span(z->data(), z->size()));
  EXPECT_EQ(decodeBinary(bytes, text.size()).size(), 40u);
  // A decompressed size above the bound is refused before it is allocated.
  EXPECT_TRUE(std::holds_alternative<Malformed>(decodeBinary(bytes, text.size() - 1).at(0)));
  std::string junk = "IFZ1garbage";
  EXPECT_TRUE(std::holds_alternative<Malformed>(
      decodeBinary(std::as_bytes(std::span(junk.data(), junk.size())), 1000).at(0)));
}

TEST(LinkCodec, HostileFramesAreMalformed) {
  for (const char* text : {"not json",
                           "[]",
                           "7",
                           "{}",
                           R"({"t":2})",
                           R"({"t":null,"f":[]})",
                           R"({"t":["batch"]})",
                           R"({"t":"batch"})",
                           R"({"t":"batch","f":{}})",
                           R"({"t":"nope"})",
                           R"({"t":"hello"})",
                           R"({"t":"hello","recv":-1})",
                           R"({"t":"hello","recv":1,"lanes":[1,2,3]})",
                           R"({"t":"hello","recv":1,"lanes":[1,2,3,"4"]})",
                           R"({"t":"hello","recv":1,"inc":"x"})",
                           R"({"t":"hello","recv":1,"v":"1"})",
                           R"({"t":"hello","recv":1,"compress":"zstd"})",
                           R"({"t":"hello","recv":1,"compress":[1]})",
                           R"({"t":"ack"})",
                           R"({"t":"ack","seq":1,"l":4})",
                           R"({"t":"ack","seq":1.5})",
                           R"({"t":"msg","s":1})",
                           R"({"t":"msg","m":{}})"})
    EXPECT_TRUE(malformed(text)) << text;
  EXPECT_TRUE(malformed(msgFrame(",\"l\":9")));
  EXPECT_TRUE(malformed(msgFrame(",\"h\":-1")));
  EXPECT_TRUE(malformed(msgFrame(",\"a\":\"1\"")));
  EXPECT_TRUE(malformed(R"({"t":"msg","s":1,"m":{"id":3}})"));
}

// Found by fuzzing: get<int>() of a huge hop count went negative (past the hop limit) or let the
// agent's hops + 1 overflow.
TEST(LinkCodec, HugeHopCountsAreClamped) {
  for (const char* h : {",\"h\":2147483647", ",\"h\":2147483648", ",\"h\":18446744073709551615"})
    EXPECT_EQ(only<Msg>(decode(msgFrame(h))).hops, kMaxHops) << h;
}

// Found by fuzzing: a deeply nested frame overflowed the stack when its message was copied.
TEST(LinkCodec, DeepFramesAreMalformedWithoutRecursing) {
  EXPECT_EQ(only<Msg>(decode(msgFrame("", test::nestedArrays(kMaxJsonDepth - 1)))).seq, 1u);
  for (std::size_t depth : {kMaxJsonDepth, std::size_t{200000}}) {
    EXPECT_TRUE(malformed(msgFrame("", test::nestedArrays(depth)))) << depth;
    auto batch =
        decode("{\"t\":\"batch\",\"f\":[" + msgFrame("", test::nestedArrays(depth)) + "]}");
    ASSERT_EQ(batch.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<Malformed>(batch[0])) << depth;
  }
}

// payloadAsText: the payload stays the text the sender wrote (key order, spaces and all),
// checked as the rest of the frame; alone or in a batch, and a frame whose payload is not JSON
// or nests too deep is Malformed as without the option.
TEST(LinkCodec, PayloadsStayTextWhenAsked) {
  const std::string payload = R"({"z" : [1, 2.50], "a":"caf\u00e9"})";
  const auto& m = only<Msg>(decode(msgFrame(",\"h\":1", payload), true));
  EXPECT_EQ(m.message.payloadJson, payload);
  EXPECT_TRUE(m.message.payload.is_null());
  EXPECT_EQ(m.message.source, "alice");
  EXPECT_EQ(payloadValue(m.message), nlohmann::json::parse(payload));
  // Passed on as it came.
  EXPECT_NE(serialize(m.message).find(",\"payload\":" + payload + ","), std::string::npos);
  EXPECT_EQ(only<Msg>(decode(msgFrame("", "\"text\""), true)).message.payloadJson, "\"text\"");
  auto batch =
      decode(encodeBatch(std::vector<std::string>{msgFrame("", "[1]"), encode(Ack{1, 2})}), true);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(std::get<Msg>(batch[0]).message.payloadJson, "[1]");
  // Without the option, the same frame's payload is a tree.
  EXPECT_EQ(only<Msg>(decode(msgFrame("", payload))).message.payload,
            nlohmann::json::parse(payload));
  for (const std::string bad : {"[1,]", "01", "\"\\ud800\"", "\"\xff\""}) {
    auto frames = decode(msgFrame("", bad), true);
    ASSERT_EQ(frames.size(), 1u) << bad;
    EXPECT_TRUE(std::holds_alternative<Malformed>(frames[0])) << bad;
  }
  EXPECT_EQ(only<Msg>(decode(msgFrame("", test::nestedArrays(kMaxJsonDepth - 1)), true))
                .message.payloadJson,
            test::nestedArrays(kMaxJsonDepth - 1));
  auto deep = decode(msgFrame("", test::nestedArrays(kMaxJsonDepth)), true);
  ASSERT_EQ(deep.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<Malformed>(deep[0]));
}

// The same frames from the reader of the common frames as from the general path, both payload
// forms; and the texts it leaves to the general path (nothing read), which then decides.
TEST(LinkCodec, TheCommonFramesReadAsTheGeneralPathReadsThem) {
  IFMessage full = sample();
  full.traceId = "trace \"1\"";
  full.signature = "c2ln";
  full.priority = MessagePriority::High;
  full.incarnation = 99;
  full.level = 10;
  const std::string fullJson = serialize(full);
  const std::vector<std::string> common = {
      encodeMsg(1, 0, 2, 0, serialize(sample())),
      encodeMsg(UINT64_MAX, 70000, 1, 5, fullJson, true),
      encode(Ack{7, 3}),
      encode(Ack{0, 2}),
      encodeBatch(std::vector<std::string>{encodeMsg(3, 1, 3, 2, fullJson), encode(Ack{4, 0})}),
      R"({"t":"batch","f":[]})",
      " { \"m\" : " + test::withPayload(sample(), " [ 1 , {\"k\" : \"\\u00e9\"} ] ") +
          " , \"s\" : 0 , \"t\" : \"msg\" } ",
      msgFrame("", test::nestedArrays(kMaxJsonDepth - 1)),
      "{\"t\":\"batch\",\"f\":[" + msgFrame("", test::nestedArrays(kMaxJsonDepth - 1)) + "]}",
  };
  for (bool asText : {false, true})
    for (const auto& text : common) {
      auto read = readCommonFrames(text, asText);
      ASSERT_TRUE(read) << text.substr(0, 120);
      auto general = decodeGeneral(text, asText);
      ASSERT_EQ(read->size(), general.size()) << text.substr(0, 120);
      for (std::size_t i = 0; i < general.size(); ++i) {
        ASSERT_EQ((*read)[i].index(), general[i].index());
        if (auto* m = std::get_if<Msg>(&general[i])) {
          const auto& n = std::get<Msg>((*read)[i]);
          EXPECT_EQ(serialize(n.message), serialize(m->message));
          EXPECT_EQ(n.message.payloadJson, m->message.payloadJson);
          EXPECT_EQ(std::tie(n.seq, n.hops, n.lane, n.ack, n.ackRequested),
                    std::tie(m->seq, m->hops, m->lane, m->ack, m->ackRequested));
        } else if (auto* a = std::get_if<Ack>(&general[i])) {
          EXPECT_EQ(std::get<Ack>((*read)[i]).seq, a->seq);
          EXPECT_EQ(std::get<Ack>((*read)[i]).lane, a->lane);
        }
      }
    }
  const std::vector<std::string> others = {
      encode(Hello{}),
      encode(Whead{1, std::string(64, 'a'), "c2ln"}),
      msgFrame(",\"x\":1"),    // an unknown key
      msgFrame(",\"s\":2"),    // a repeated one
      msgFrame(",\"h\":-0"),   // a signed zero is not a count
      msgFrame(",\"l\":4"),    // no such lane
      msgFrame(",\"a\":1.0"),  // not an integer
      msgFrame("", test::nestedArrays(kMaxJsonDepth)),
      R"({"t":"batch","f":[{"t":"batch","f":[]}]})",
      R"({"t":"batch","f":[{"t":"ack","seq":1},7]})",
      R"({"t":"ack","seq":1,"lane":2})",
      R"({"t":"ack","seq":18446744073709551616})",
      R"({"t":"msg","s":1})",
      std::string("{\"t\":\"ack\",\"seq\":1}\0junk", 24),
      "\xEF\xBB\xBF{\"t\":\"ack\",\"seq\":1}",
  };
  for (const auto& text : others) {
    EXPECT_FALSE(readCommonFrames(text, false)) << text.substr(0, 120);
    EXPECT_FALSE(readCommonFrames(text, true)) << text.substr(0, 120);
  }
  // A level out of range, an unknown priority, an empty source: the general path refuses them.
  for (const std::string& bad :
       {std::string(",\"level\":11"), std::string(",\"priority\":\"urgent\"")}) {
    std::string text = msgFrame("");
    text.insert(text.rfind("}}"), bad);
    EXPECT_FALSE(readCommonFrames(text, false)) << text;
  }
}

}  // namespace
}  // namespace ifmesh::detail::link
