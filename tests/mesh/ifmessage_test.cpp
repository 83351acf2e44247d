// IFMessage JSON codec: round trip and every way a peer can get it wrong.
#include <gtest/gtest.h>

#include <cctype>
#include <random>
#include <set>

#include "ifmesh/error.hpp"
#include "ifmesh/ifmessage.hpp"
#include "mesh/ifmessage_json.hpp"

namespace ifmesh {
namespace {

IFMessage sample() {
  IFMessage m;
  m.id = newMessageId();
  m.timestamp = "2026-11-24T19:50:08.123Z";
  m.source = "agent-finance";
  m.destination = "agent-legal";
  m.payload = {{"data", "analysis results"}, {"n", 3}};
  m.sequence = 42;
  return m;
}

TEST(IFMessage, IdsAreRandomVersion4Uuids) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = newMessageId();
    ASSERT_EQ(id.size(), 36u) << id;
    for (std::size_t c = 0; c < id.size(); ++c) {
      if (c == 8 || c == 13 || c == 18 || c == 23)
        ASSERT_EQ(id[c], '-') << id;
      else
        ASSERT_TRUE(std::isxdigit(static_cast<unsigned char>(id[c])) && !std::isupper(id[c])) << id;
    }
    EXPECT_EQ(id[14], '4') << id;
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(IFMessage, RoundTrips) {
  auto m = sample();
  auto back = ifmessageFromJson(serialize(m));
  EXPECT_EQ(back.id, m.id);
  EXPECT_EQ(back.source, m.source);
  EXPECT_EQ(back.destination, m.destination);
  EXPECT_EQ(back.payload, m.payload);
  EXPECT_EQ(back.sequence, 42u);
  EXPECT_EQ(back.version, "2.1");
  EXPECT_EQ(m.id.size(), 36u);
}

TEST(IFMessage, SerializeWritesWhatTheJsonObjectDumps) {
  // serialize() writes the text directly; it must stay byte for byte what the JSON object
  // dumps, for every field present or absent and strings that need escaping or are UTF-8.
  std::mt19937 rng(7);
  const std::vector<std::string> texts = {"",
                                          "agent-1",
                                          "quote \" backslash \\ slash /",
                                          "tab\tnewline\ncr\r",
                                          std::string("nul\0x", 5),
                                          "\x01\x1f\x7f",
                                          "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                                          "2026-11-24T19:50:08.123Z"};
  auto pick = [&] { return texts[rng() % texts.size()]; };
  for (int i = 0; i < 2000; ++i) {
    IFMessage m = sample();
    m.id = pick();
    m.timestamp = pick();
    m.source = pick();
    m.destination = pick();
    m.version = rng() % 2 ? "2.1" : pick();
    m.traceId = rng() % 2 ? "" : pick();
    m.signature = rng() % 2 ? "" : pick();
    m.level = static_cast<int>(rng() % 23) - 11;
    m.sequence = rng() % 3 == 0 ? UINT64_MAX : rng();
    m.incarnation = rng() % 2 ? 0 : rng();
    m.priority = static_cast<MessagePriority>(rng() % kMessagePriorities);
    m.payload = rng() % 2 ? nlohmann::json(pick()) : nlohmann::json{{"k", pick()}, {"n", i}};
    ASSERT_EQ(serialize(m), toJson(m).dump()) << "message " << i;
  }
  IFMessage bad = sample();
  bad.source = "\xff\xfe not UTF-8";
  EXPECT_THROW(serialize(bad), nlohmann::json::type_error);
  EXPECT_THROW(toJson(bad).dump(), nlohmann::json::type_error);
}

// A payload given as text goes into the message's text as it is, and a signature over it is
// the one over the same payload as a tree: canonicalForm() does not depend on key order or
// spacing.
TEST(IFMessage, APayloadGivenAsTextIsSplicedAndSignsAsItsValue) {
  IFMessage tree = sample();
  tree.payload = {{"a", 1}, {"b", {true, nullptr, "x"}}};
  IFMessage text = tree;
  text.payload = nullptr;
  text.payloadJson = R"({ "b":[true,null,"x"], "a":1 })";
  EXPECT_EQ(canonicalForm(text), canonicalForm(tree));
  EXPECT_EQ(toJson(text), toJson(tree));
  EXPECT_EQ(payloadValue(text), tree.payload);
  const std::string serialized = serialize(text);
  EXPECT_NE(serialized.find(R"("payload":{ "b":[true,null,"x"], "a":1 },)"), std::string::npos);
  EXPECT_EQ(ifmessageFromJson(serialized).payload, tree.payload);
  IFMessage bad = sample();
  bad.payloadJson = "{\"a\":";
  try {
    payloadValue(bad);
    FAIL() << "text that is not JSON was taken";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::InvalidArgument);
  }
}

TEST(IFMessage, ParsingFromAValueItOwnsGivesTheSameMessage) {
  IFMessage m = sample();
  m.traceId = "trace";
  m.priority = MessagePriority::High;
  m.incarnation = 9;
  nlohmann::json j = toJson(m);
  IFMessage copied = ifmessageFromJsonValue(j);
  IFMessage moved = ifmessageFromJsonValue(std::move(j));
  for (const IFMessage* x : {&copied, &moved}) {
    EXPECT_EQ(x->id, m.id);
    EXPECT_EQ(x->timestamp, m.timestamp);
    EXPECT_EQ(x->source, m.source);
    EXPECT_EQ(x->destination, m.destination);
    EXPECT_EQ(x->traceId, m.traceId);
    EXPECT_EQ(x->payload, m.payload);
    EXPECT_EQ(x->priority, m.priority);
    EXPECT_EQ(x->incarnation, m.incarnation);
    EXPECT_EQ(x->sequence, m.sequence);
  }
}

TEST(IFMessage, RejectsMalformedMessagesWithClearErrors) {
  auto base = toJson(sample());
  std::vector<std::string> cases = {"", "nope", "[]", "42", "{}"};
  for (const char* field :
       {"id", "timestamp", "level", "source", "destination", "version", "payload"}) {
    auto j = base;
    j.erase(field);
    cases.push_back(j.dump());
    j = base;
    j[field] = nlohmann::json::array();
    if (std::string(field) != "payload") cases.push_back(j.dump());
  }
  auto j = base;
  j["version"] = "1.0";
  cases.push_back(j.dump());
  j = base;
  j["sequence_num"] = -1;
  cases.push_back(j.dump());
  j = base;
  j["level"] = 99;
  cases.push_back(j.dump());
  j = base;
  j["source"] = "";
  cases.push_back(j.dump());
  for (const auto& c : cases) {
    try {
      ifmessageFromJson(c);
      ADD_FAILURE() << "accepted " << c;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::InvalidArgument) << c;
    }
  }
  try {
    ifmessageFromJson(serialize(sample()), 10);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::MessageTooLarge);
  }
}

TEST(IFMessage, RandomCorruptionNeverCrashes) {
  std::string good = serialize(sample());
  std::mt19937 rng(7);
  for (int i = 0; i < 5000; ++i) {
    std::string s = good;
    for (int k = 0; k < 3; ++k) s[rng() % s.size()] = static_cast<char>(rng() % 256);
    try {
      ifmessageFromJson(s);
    } catch (const Error&) {
    }
  }
}

// Found by fuzzing: copying a deeply nested payload recursed once per level (stack overflow).
TEST(IFMessage, RejectsDeepNestingWithoutRecursing) {
  EXPECT_EQ(ifmessageFromJson(test::withPayload(sample(), test::nestedArrays(99))).payload.size(),
            1u);  // 100 levels
  for (std::size_t depth : {std::size_t{100}, std::size_t{300000}}) {
    try {
      ifmessageFromJson(test::withPayload(sample(), test::nestedArrays(depth)));
      ADD_FAILURE() << "accepted depth " << depth;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::InvalidArgument);
    }
  }
}

}  // namespace
}  // namespace ifmesh
