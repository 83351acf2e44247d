// Registration with a public key: validated by the server, handed to the others in the directory
// and in agent-joined; a bad key is refused with a clear error.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "ifmesh/identity.hpp"
#include "signaling/signaling_fixture.hpp"

namespace ifmesh::signaling {
namespace {

using namespace std::chrono_literals;
using namespace test;

ClientConfig keyed(const Server& s, const std::string& id, std::string key) {
  ClientConfig c = clientFor(s, id);
  c.publicKey = std::move(key);
  c.autoReconnect = false;
  return c;
}

struct Keys {
  std::mutex mutex;
  std::map<std::string, std::string> byId;
  void attach(Client& c) {
    c.onPublicKey([this](const std::string& id, const std::string& key) {
      std::lock_guard lock(mutex);
      byId[id] = key;
    });
  }
  std::string of(const std::string& id) {
    std::lock_guard lock(mutex);
    return byId.count(id) ? byId[id] : "";
  }
};

TEST(SignalingKeys, DirectoryAndJoinCarryTheAnnouncedKeys) {
  Server server(loopbackServer());
  server.start();
  auto aliceKey = AgentIdentity::generate().publicKey();
  auto bobKey = AgentIdentity::generate().publicKey();
  Client alice(keyed(server, "alice", aliceKey)), bob(keyed(server, "bob", bobKey));
  Client browser(keyed(server, "browser", ""));  // no key: still welcome, announced without one
  Keys aliceSees, bobSees;
  aliceSees.attach(alice);
  bobSees.attach(bob);
  alice.connect();
  ASSERT_TRUE(alice.waitRegistered(5s));
  browser.connect();
  ASSERT_TRUE(browser.waitRegistered(5s));
  bob.connect();
  ASSERT_TRUE(bob.waitRegistered(5s));
  EXPECT_EQ(bobSees.of("alice"), aliceKey);  // from "registered"
  EXPECT_EQ(bobSees.of("browser"), "");
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (aliceSees.of("bob").empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(2ms);
  EXPECT_EQ(aliceSees.of("bob"), bobKey);  // from "agent-joined"
}

TEST(SignalingKeys, BadPublicKeyIsRefusedWithAClearError) {
  Server server(loopbackServer());
  server.start();
  auto good = AgentIdentity::generate().publicKey();
  for (std::string bad :
       {std::string("not base64!"), good.substr(0, 40), base64Encode(std::string(31, 'x')),
        base64Encode(std::string(33, 'x')), good + "AAAA", std::string(" ") + good}) {
    Client c(keyed(server, "x", bad));
    std::promise<std::pair<std::string, std::string>> error;
    std::atomic<bool> set{false};
    c.onError([&](const std::string& code, const std::string& message) {
      if (!set.exchange(true)) error.set_value({code, message});
    });
    c.connect();
    auto f = error.get_future();
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready) << bad;
    auto [code, message] = f.get();
    EXPECT_EQ(code, "bad_public_key") << bad;
    EXPECT_NE(message.find("Ed25519"), std::string::npos) << message;
    EXPECT_FALSE(c.isRegistered());
  }
  EXPECT_EQ(server.agentCount(), 0u);
}

}  // namespace
}  // namespace ifmesh::signaling
