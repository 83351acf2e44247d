// The C++ link session (src/mesh/link_session.hpp), sans-IO, driven by a script on stdin, for
// session_cross.test.mjs, which runs the same script through the JavaScript session and compares.
// This side is agent-b (incarnation 77); its peer is agent-a with the key of the document's test
// vector 1. Each input line is one step:
//   open <remote fingerprint>      a connection opens (our hello goes out)
//   close                          it closes
//   recv <ms> <hex>                a text channel message from agent-a arrives at <ms>
//   send <ms> <lane> <awaited> <id> we queue a message for agent-a (awaited 1: with a promise)
//   tick <ms>                      timers due by <ms> run
// after which whatever is due by then runs (as the agent runs it at the end of a turn), and one
// JSON line reports the step: the channel messages sent, the session's events and the messages
// delivered.
#include <chrono>
#include <future>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ifmesh/identity.hpp"
#include "ifmesh/ifmessage.hpp"
#include "mesh/link_session.hpp"

namespace lc = ifmesh::detail::link;
using nlohmann::json;

namespace {

const char* kPeerKey = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

std::string fromHex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

json describe(const lc::Event& e) {
  if (std::holds_alternative<lc::Authenticated>(e)) return {{"type", "authenticated"}};
  if (const auto* f = std::get_if<lc::AuthFailed>(&e))
    return {{"type", "auth_failed"}, {"reason", f->reason}};
  if (const auto* r = std::get_if<lc::Rejected>(&e))
    return {{"type", "rejected"}, {"reason", r->reason}, {"messageId", r->messageId}};
  if (const auto* r = std::get_if<lc::Released>(&e))
    return {{"type", "released"}, {"messages", r->messages}};
  if (const auto* p = std::get_if<lc::PeerRestarted>(&e))
    return {{"type", "peer_restarted"},
            {"unacknowledged", p->unacknowledged},
            {"waiting", p->waiting},
            {"deliveredFromOld", p->deliveredFromOld}};
  if (const auto* p = std::get_if<lc::PeerLostState>(&e))
    return {{"type", "peer_state_regressed"}, {"lane", p->lane}, {"lost", p->lost}};
  if (const auto* b = std::get_if<lc::BatchSent>(&e))
    return {{"type", "batch_sent"}, {"frames", b->frames}};
  return {{"type", "compressed"}};
}

}  // namespace

int main() {
  auto peerKey = ifmesh::PublicKey::parse(kPeerKey);
  lc::SessionConfig config;
  config.ownId = "agent-b";
  config.peerId = "agent-a";
  config.incarnation = 77;
  config.peerKey = [&] { return &*peerKey; };
  json delivered = json::array();
  lc::Session session(std::move(config), [&](ifmesh::IFMessage&& m, int hops) {
    delivered.push_back({m.id, hops, static_cast<int>(m.priority)});
    return true;
  });
  const auto epoch = lc::Clock::time_point{};
  auto at = [&](long ms) { return epoch + std::chrono::milliseconds(ms); };
  lc::Clock::time_point now = epoch;
  std::vector<std::shared_future<void>> promises;

  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string step;
    in >> step;
    if (step == "open") {
      lc::Connection c;
      c.localFingerprint = "BB:02";
      c.helloSignature = "c2ln";
      in >> c.remoteFingerprint;
      c.channelFull = [](std::size_t) { return false; };
      session.open(std::move(c));
    } else if (step == "close") {
      session.close();
    } else if (step == "recv") {
      long ms = 0;
      std::string hex;
      in >> ms >> hex;
      now = at(ms);
      session.receive(now, fromHex(hex));
    } else if (step == "send") {
      long ms = 0;
      int lane = 2, awaited = 0;
      std::string id;
      in >> ms >> lane >> awaited >> id;
      now = at(ms);
      ifmesh::IFMessage m;
      m.id = id;
      m.source = "agent-b";
      m.destination = "agent-a";
      m.timestamp = "2026-01-02T03:04:05.678Z";
      m.sequence = 1;
      m.priority = static_cast<ifmesh::MessagePriority>(lane);
      m.payload = {{"id", id}};
      std::shared_ptr<std::promise<void>> acked;
      if (awaited) {
        acked = std::make_shared<std::promise<void>>();
        promises.push_back(acked->get_future().share());
      }
      session.enqueue(now, m, 0, acked ? ifmesh::detail::noticeFor(acked) : nullptr);
    } else if (step == "tick") {
      long ms = 0;
      in >> ms;
      now = at(ms);
      session.tick(now);
    }
    if (auto due = session.nextDeadline(); due && *due <= now) session.tick(now);
    json out = json::array();
    for (auto& o : session.takeOutput()) out.push_back(o.bytes);
    json events = json::array();
    for (const auto& e : session.takeEvents()) events.push_back(describe(e));
    std::cout << json{{"out", out}, {"events", events}, {"delivered", delivered}}.dump() << '\n';
    delivered = json::array();
  }
  return 0;
}
