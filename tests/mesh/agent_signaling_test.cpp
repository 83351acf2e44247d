// AgentSignaling: what a loopback signaling server reports reaches the agent's loop thread, in
// order and typed, and nothing reaches an agent that stopped listening or is gone.
#include "mesh/agent_signaling.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "ifmesh/identity.hpp"
#include "rtc/runtime.hpp"

namespace ifmesh::detail {
namespace {

using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

class RecordingEvents : public SignalingEvents {
 public:
  explicit RecordingEvents(rtc::IoLoop& loop) : loop_(loop) {}
  std::atomic<bool> open{true};
  mutable std::atomic<int> asked{0};  // listening() calls: one per event that reached the loop

  bool listening() const override {
    ++asked;
    return open;
  }
  void keyAnnounced(const std::string& id, const std::string& key) override {
    record("key " + id + " " + std::to_string(key.size()));
  }
  void registered(const std::vector<std::string>& directory) override {
    std::string line = "registered";
    for (const auto& id : directory) line += " " + id;
    record(line);
  }
  void agentJoined(const std::string& id) override { record("joined " + id); }
  void agentLeft(const std::string& id) override { record("left " + id); }
  void peerSignal(const std::string& from, const PeerSignal& s) override {
    record("signal " + from + " " + s.type() + " " + std::to_string(s.sid) + " " + s.sdp);
  }
  void signalingError(const std::string& code, const std::string&) override {
    record("error " + code);
  }
  void signalingDisconnected() override { record("disconnected"); }

  Strings lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  bool offLoop() const { return offLoop_; }
  // Waits until `line` was recorded.
  bool waitFor(const std::string& line) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto l = lines();
      if (std::find(l.begin(), l.end(), line) != l.end()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

 private:
  void record(std::string line) {
    if (!loop_.isLoopThread()) offLoop_ = true;
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(line));
  }
  rtc::IoLoop& loop_;
  std::mutex mutex_;
  Strings lines_;
  std::atomic<bool> offLoop_{false};
};

struct Fixture {
  Fixture() {
    signaling::ServerConfig sc;
    sc.port = 0;
    server = std::make_unique<signaling::Server>(sc);
    server->start();
  }
  AgentConfig config(const std::string& id) const {
    AgentConfig c;
    c.agentId = id;
    c.signalingUrl = "ws://127.0.0.1:" + std::to_string(server->port());
    return c;
  }
  rtc::IoLoop& loop = rtc::Runtime::instance().loop(0);
  std::unique_ptr<signaling::Server> server;
};

TEST(AgentSignaling, ReportsTheDirectoryKeysAndPeerSignalsOnTheLoopInOrder) {
  Fixture f;
  auto aliceEvents = std::make_shared<RecordingEvents>(f.loop);
  auto bobEvents = std::make_shared<RecordingEvents>(f.loop);
  AgentSignaling alice(f.loop), bob(f.loop);
  auto aliceKey = AgentIdentity::generate().publicKey();
  auto bobKey = AgentIdentity::generate().publicKey();
  alice.start(f.config("alice"), aliceKey, aliceEvents);
  ASSERT_TRUE(aliceEvents->waitFor("registered"));
  bob.start(f.config("bob"), bobKey, bobEvents);
  ASSERT_TRUE(bobEvents->waitFor("registered alice"));
  ASSERT_TRUE(aliceEvents->waitFor("joined bob"));
  f.loop.invoke([&] {
    bob.send("alice", "offer", {{"sid", 5}, {"offer", {{"type", "offer"}, {"sdp", "v=0"}}}});
    bob.send("alice", "chat", {{"text", "not a link's"}});
    bob.send("alice", "bye", nlohmann::json::object());
  });
  ASSERT_TRUE(aliceEvents->waitFor("signal bob bye 0 "));
  EXPECT_EQ(aliceEvents->lines(), (Strings{"registered", "key bob 44", "joined bob",
                                           "signal bob offer 5 v=0", "signal bob bye 0 "}));
  // Bob heard alice's key before the directory that names her.
  EXPECT_EQ(bobEvents->lines(), (Strings{"key alice 44", "registered alice"}));
  bob.close();
  ASSERT_TRUE(aliceEvents->waitFor("left bob"));
  alice.close();
  EXPECT_FALSE(aliceEvents->offLoop());
  EXPECT_FALSE(bobEvents->offLoop());
}

TEST(AgentSignaling, NothingReachesAnAgentThatStoppedListeningOrIsGone) {
  Fixture f;
  auto aliceEvents = std::make_shared<RecordingEvents>(f.loop);
  auto bobEvents = std::make_shared<RecordingEvents>(f.loop);
  AgentSignaling alice(f.loop), bob(f.loop);
  alice.start(f.config("alice"), "", aliceEvents);
  ASSERT_TRUE(aliceEvents->waitFor("registered"));
  bob.start(f.config("bob"), "", bobEvents);
  ASSERT_TRUE(aliceEvents->waitFor("joined bob"));
  auto before = aliceEvents->lines();
  aliceEvents->open = false;
  int asked = aliceEvents->asked;
  f.loop.invoke([&] { bob.send("alice", "bye", nlohmann::json::object()); });
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (aliceEvents->asked == asked && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_GT(aliceEvents->asked, asked);  // the relay reached the loop, and was dropped there
  EXPECT_EQ(aliceEvents->lines(), before);
  // Gone: what the client still reports finds nobody to call.
  std::weak_ptr<RecordingEvents> gone = aliceEvents;
  aliceEvents.reset();
  ASSERT_TRUE(gone.expired());
  f.loop.invoke([&] { bob.send("alice", "bye", nlohmann::json::object()); });
  bob.close();  // alice hears "left bob" too
  std::this_thread::sleep_for(100ms);
  f.loop.invoke([] {});  // whatever was posted has run
  alice.close();
}

}  // namespace
}  // namespace ifmesh::detail
