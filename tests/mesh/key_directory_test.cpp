// KeyDirectory: announced keys, and when a departed agent's key is forgotten.
#include "mesh/key_directory.hpp"

#include <gtest/gtest.h>

namespace ifmesh::detail {
namespace {

using namespace std::chrono_literals;

TEST(KeyDirectory, LearnsOnlyRealKeys) {
  KeyDirectory keys(120s);
  EXPECT_FALSE(keys.learn("a", "not a key"));
  EXPECT_EQ(keys.key("a"), nullptr);
  auto identity = AgentIdentity::generate();
  EXPECT_TRUE(keys.learn("a", identity.publicKey()));
  ASSERT_NE(keys.key("a"), nullptr);
  EXPECT_EQ(keys.key("a")->base64(), identity.publicKey());
  EXPECT_EQ(keys.size(), 1u);
}

TEST(KeyDirectory, ForgetsDepartedAgentsAfterTheWindowUnlessBackOrKept) {
  KeyDirectory keys(120s);
  const KeyDirectory::Clock::time_point t0{};
  for (const char* id : {"gone", "back", "linked"})
    ASSERT_TRUE(keys.learn(id, AgentIdentity::generate().publicKey()));
  for (const char* id : {"gone", "back", "linked"}) keys.left(id, t0);
  keys.joined("back");
  auto keep = [](const std::string& id) { return id == "linked"; };
  EXPECT_TRUE(keys.forgetDeparted(t0 + 119s, keep).empty());  // still within the window
  EXPECT_EQ(keys.forgetDeparted(t0 + 120s, keep), std::vector<std::string>{"gone"});
  EXPECT_EQ(keys.key("gone"), nullptr);
  EXPECT_NE(keys.key("back"), nullptr);
  EXPECT_NE(keys.key("linked"), nullptr);
  // Leaving again later counts from the later departure.
  keys.left("back", t0 + 200s);
  EXPECT_TRUE(keys.forgetDeparted(t0 + 300s, keep).empty());
  EXPECT_EQ(keys.forgetDeparted(t0 + 320s, keep), std::vector<std::string>{"back"});
}

}  // namespace
}  // namespace ifmesh::detail
