// IFMessage JSON codec: round trip and every way a peer can get it wrong.
#include <gtest/gtest.h>

#include <random>

#include "ifmesh/error.hpp"
#include "ifmesh/ifmessage.hpp"

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

}  // namespace
}  // namespace ifmesh
