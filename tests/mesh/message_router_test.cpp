// MessageRouter: delivery to us after the signature and replay checks, forwarding over the
// topology, and forwards held back until their upstream may resend. A recording host stands in
// for the agent's links (sans-IO).
#include "mesh/message_router.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

#include "ifmesh/error.hpp"
#include "ifmesh/witness.hpp"

namespace ifmesh::detail {
namespace {

using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

class RecordingHost : public RouterHost {
 public:
  std::map<std::string, PeerState> links;
  std::map<std::string, PublicKey> keys;
  std::set<std::string> full;      // hops whose queue takes no forwards
  std::set<std::string> tooLarge;  // hops whose link throws for every message
  std::vector<std::tuple<std::string, std::string, int>> queued;  // hop, message id, hops
  Strings delivered, undelivered, resumed;
  std::vector<std::pair<std::string, nlohmann::json>> witnessed;
  std::optional<Clock::time_point> wake;
  int wakeCalls = 0;

  std::optional<PeerState> linkState(const std::string& peerId) const override {
    auto it = links.find(peerId);
    if (it == links.end()) return std::nullopt;
    return it->second;
  }
  bool enqueue(const std::string& hop, const IFMessage& message, int hops) override {
    if (tooLarge.count(hop)) throw Error(Errc::MessageTooLarge, "too large for " + hop);
    links.try_emplace(hop, PeerState::Connecting);  // as the agent: a link made on demand
    if (hops > 0 && full.count(hop)) return false;
    queued.emplace_back(hop, message.id, hops);
    return true;
  }
  bool hasRoomToForward(const std::string& hop) const override { return !full.count(hop); }
  void resumeReceiving(const std::string& upstream) override { resumed.push_back(upstream); }
  const PublicKey* peerKey(const std::string& agentId) const override {
    auto it = keys.find(agentId);
    return it == keys.end() ? nullptr : &it->second;
  }
  void deliver(const IFMessage& message) override { delivered.push_back(message.id); }
  void undeliverable(const IFMessage& message, const std::string& reason) override {
    undelivered.push_back(message.id + ": " + reason);
  }
  void witness(const char* event, const std::string&, nlohmann::json metadata) override {
    witnessed.emplace_back(event, std::move(metadata));
  }
  bool witnessing() const override { return true; }
  void wakeRouterAt(std::optional<Clock::time_point> due) override {
    wake = due;
    ++wakeCalls;
  }

  // The reasons of every ifmessage_rejected so far.
  Strings rejections() const {
    Strings out;
    for (const auto& [event, metadata] : witnessed)
      if (event == "ifmessage_rejected") out.push_back(metadata.at("reason").get<std::string>());
    return out;
  }
};

AgentConfig config(MessageSignatures signatures = MessageSignatures::Always) {
  AgentConfig c;
  c.agentId = "me";
  c.identity.messageSignatures = signatures;
  return c;
}

// A message from `source` to `destination`, signed by `signer` unless it is null.
IFMessage message(const std::string& id, const std::string& source, const std::string& destination,
                  std::uint64_t sequence, const AgentIdentity* signer) {
  IFMessage m;
  m.id = id;
  m.source = source;
  m.destination = destination;
  m.timestamp = isoTimestampNow();
  m.sequence = sequence;
  m.incarnation = 7;
  m.payload = {{"n", sequence}};
  if (signer) signMessage(m, *signer);
  return m;
}

struct Fixture {
  explicit Fixture(AgentConfig c = config(), std::chrono::milliseconds grace = 1h)
      : router(host, c, grace) {
    host.keys.emplace("src", *PublicKey::parse(source.publicKey()));
  }
  RecordingHost host;
  MessageRouter router;
  AgentIdentity source = AgentIdentity::generate();
};

TEST(MessageRouter, DeliversAMessageForUsOnceAndWitnessesIt) {
  Fixture f;
  auto m = message("m1", "src", "me", 1, &f.source);
  EXPECT_TRUE(f.router.receive(m, 0, "src"));
  EXPECT_EQ(f.host.delivered, Strings{"m1"});
  ASSERT_EQ(f.host.witnessed.size(), 1u);
  EXPECT_EQ(f.host.witnessed[0].first, "ifmessage_received");
  EXPECT_EQ(f.host.witnessed[0].second.at("via"), "src");
  // The same message again (a relay that forwarded it twice) is a replay.
  EXPECT_TRUE(f.router.receive(m, 1, "relay"));
  EXPECT_EQ(f.host.delivered, Strings{"m1"});
  EXPECT_EQ(f.host.rejections(), Strings{"replay"});
}

TEST(MessageRouter, RejectsForgeriesWithoutMovingTheReplayState) {
  Fixture f;
  auto stranger = AgentIdentity::generate();
  EXPECT_TRUE(f.router.receive(message("a", "nobody", "me", 1, &stranger), 0, "nobody"));
  EXPECT_TRUE(f.router.receive(message("b", "src", "me", 9, nullptr), 0, "src"));
  EXPECT_TRUE(f.router.receive(message("c", "src", "me", 9, &stranger), 0, "src"));
  auto tampered = message("d", "src", "me", 9, &f.source);
  tampered.payload = {{"n", 10}};
  EXPECT_TRUE(f.router.receive(tampered, 0, "src"));
  EXPECT_EQ(f.host.rejections(),
            (Strings{"unknown_source_key", "missing_signature", "bad_signature", "bad_signature"}));
  EXPECT_TRUE(f.host.delivered.empty());
  // None of them counted as sequence 9 of src: its genuine sequence 1 is still new.
  EXPECT_TRUE(f.router.receive(message("e", "src", "me", 1, &f.source), 0, "src"));
  EXPECT_EQ(f.host.delivered, Strings{"e"});
}

TEST(MessageRouter, RelayedSignaturesRequireThemOnlyOnForwardedMessages) {
  Fixture f(config(MessageSignatures::Relayed));
  // Direct (hops 0): the link already authenticated the source.
  EXPECT_TRUE(f.router.receive(message("a", "src", "me", 1, nullptr), 0, "src"));
  EXPECT_TRUE(f.router.receive(message("b", "src", "me", 2, nullptr), 1, "relay"));
  // A signature that is present is checked even where none is required.
  auto forged = message("c", "src", "me", 3, &f.source);
  forged.sequence = 4;
  EXPECT_TRUE(f.router.receive(forged, 0, "src"));
  EXPECT_EQ(f.host.delivered, Strings{"a"});
  EXPECT_EQ(f.host.rejections(), (Strings{"missing_signature", "bad_signature"}));
}

TEST(MessageRouter, ForwardsOneHopCloserOverTheTopology) {
  AgentConfig c = config();
  c.topology = Topology::HubAndSpoke;
  c.hubId = "hub";
  Fixture f(c);
  f.router.setDirectory({"hub", "other", "me"});
  EXPECT_EQ(f.router.directory(), (std::set<std::string>{"hub", "other"}));
  EXPECT_EQ(f.router.nextHop("other"), "hub");
  EXPECT_TRUE(f.router.receive(message("m", "src", "other", 1, &f.source), 2, "src"));
  ASSERT_EQ(f.host.queued.size(), 1u);
  EXPECT_EQ(f.host.queued[0], std::make_tuple(std::string("hub"), std::string("m"), 3));
  // A usable link to the destination itself is always the next hop; an unreachable one is not.
  f.host.links["other"] = PeerState::Connected;
  EXPECT_EQ(f.router.nextHop("other"), "other");
  f.host.links["other"] = PeerState::Unreachable;
  EXPECT_EQ(f.router.nextHop("other"), "hub");
  EXPECT_TRUE(f.host.delivered.empty());
}

TEST(MessageRouter, AnUnreachableHopMakesAMessageUndeliverable) {
  Fixture f;
  f.router.setDirectory({"dst"});
  f.host.links["dst"] = PeerState::Unreachable;
  EXPECT_TRUE(f.router.route(message("m", "me", "dst", 1, nullptr), 0));
  EXPECT_EQ(f.host.undelivered, Strings{"m: peer is unreachable"});
  EXPECT_TRUE(f.host.queued.empty());
}

TEST(MessageRouter, StopsAtTheHopLimit) {
  Fixture f;
  f.router.setDirectory({"dst"});
  EXPECT_TRUE(f.router.receive(message("m", "src", "dst", 1, &f.source), 16, "src"));
  EXPECT_EQ(f.host.rejections(), Strings{"hop limit reached"});
  EXPECT_TRUE(f.router.receive(message("n", "src", "dst", 2, &f.source), 15, "src"));
  ASSERT_EQ(f.host.queued.size(), 1u);
  EXPECT_EQ(std::get<2>(f.host.queued[0]), 16);
}

TEST(MessageRouter, AForwardThatCannotBeTakenIsWitnessedAndDropped) {
  Fixture f;
  f.router.setDirectory({"dst"});
  f.host.tooLarge.insert("dst");
  EXPECT_TRUE(f.router.receive(message("m", "src", "dst", 1, &f.source), 0, "src"));
  ASSERT_EQ(f.host.witnessed.size(), 1u);
  EXPECT_EQ(f.host.witnessed[0].first, "message_undeliverable");
  // A local message's error reaches the sender.
  EXPECT_THROW(f.router.route(message("n", "me", "dst", 1, nullptr), 0), Error);
}

TEST(MessageRouter, AForwardToAFullHopWaitsUntilTheHopHasRoom) {
  Fixture f;
  f.router.setDirectory({"dst"});
  f.host.full.insert("dst");
  EXPECT_FALSE(f.router.receive(message("m", "src", "dst", 1, &f.source), 0, "src"));
  EXPECT_EQ(f.router.held(), 1u);
  ASSERT_EQ(f.host.witnessed.size(), 1u);
  EXPECT_EQ(f.host.witnessed[0].first, "forward_held");
  EXPECT_EQ(f.host.witnessed[0].second.at("reason"), "queue toward dst is full");
  EXPECT_FALSE(f.host.wake);  // a wait for room has no deadline
  // Held again while it waits: no second witness.
  EXPECT_FALSE(f.router.receive(message("m", "src", "dst", 1, &f.source), 0, "src"));
  EXPECT_EQ(f.host.witnessed.size(), 1u);
  f.router.resumeHeld(true);  // a directory change does not make room
  EXPECT_TRUE(f.host.resumed.empty());
  f.host.full.clear();
  f.router.resumeHeld(false);
  EXPECT_EQ(f.host.resumed, Strings{"src"});
  EXPECT_EQ(f.router.held(), 0u);
  EXPECT_TRUE(f.router.receive(message("m", "src", "dst", 1, &f.source), 0, "src"));
  EXPECT_EQ(f.host.queued.size(), 1u);
}

TEST(MessageRouter, AForwardToAnUnknownDestinationWaitsForItToJoin) {
  Fixture f;
  auto m = message("m", "src", "late", 1, &f.source);
  EXPECT_FALSE(f.router.receive(m, 0, "src"));
  EXPECT_EQ(f.host.witnessed.at(0).second.at("reason"), "destination not in the directory yet");
  ASSERT_TRUE(f.host.wake);
  EXPECT_GT(*f.host.wake, RouterHost::Clock::now() + 30min);  // its grace, one hour here
  EXPECT_TRUE(f.host.queued.empty());
  f.router.joined("late");
  f.router.resumeHeld(true);
  EXPECT_EQ(f.host.resumed, Strings{"src"});
  EXPECT_FALSE(f.host.wake);
  EXPECT_TRUE(f.router.receive(m, 0, "src"));
  EXPECT_EQ(f.host.queued.size(), 1u);
  // Gone again: unknown, so held again.
  f.router.left("late");
  f.host.links.clear();
  EXPECT_FALSE(f.router.receive(message("n", "src", "late", 2, &f.source), 0, "src"));
}

TEST(MessageRouter, AnUpstreamWhoseGraceRanOutIsRefusedUntilItNamesAKnownDestination) {
  Fixture f(config(), 0ms);
  f.router.setDirectory({"dst"});
  EXPECT_FALSE(f.router.receive(message("a", "src", "ghost", 1, &f.source), 0, "src"));
  f.router.resumeHeld(false);  // the timer the host was asked for: the grace is over
  EXPECT_EQ(f.host.resumed, Strings{"src"});
  EXPECT_TRUE(f.router.receive(message("a", "src", "ghost", 1, &f.source), 0, "src"));
  EXPECT_EQ(f.host.rejections(), Strings{"unknown destination"});
  // A message to a known destination ends the refusal: the next unknown one waits again.
  EXPECT_TRUE(f.router.receive(message("b", "src", "dst", 2, &f.source), 0, "src"));
  EXPECT_FALSE(f.router.receive(message("c", "src", "ghost", 3, &f.source), 0, "src"));
  // A destination we are linked to counts as known, directory or not.
  f.host.links["linked"] = PeerState::Connected;
  EXPECT_TRUE(f.router.receive(message("d", "other", "linked", 1, &f.source), 0, "other"));
  EXPECT_EQ(f.host.queued.size(), 2u);
}

}  // namespace
}  // namespace ifmesh::detail
