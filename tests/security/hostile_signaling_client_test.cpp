// Hostile clients against the signaling server, over real WebSockets on 127.0.0.1: a registered
// client (any token holder) trying to speak for the server, to smuggle ids that are not ids, to
// overflow the server's stack, to make it hold memory for a reader that never reads, to squat its
// connections and its directory, and to leave its port deaf. Each test also checks that a
// well-behaved client is still served afterwards.
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "signaling/signaling_fixture.hpp"

namespace ifmesh::signaling {
namespace {

using namespace std::chrono_literals;
using namespace test;
using json = nlohmann::json;

const char* kKey = "b8eR+oIyH/ccf4PKhva1G4pYlhTuSReqritgFTU1atE=";

// A raw client that registered as `id`; the registration reply is consumed.
std::unique_ptr<RawSocket> registered(const Server& server, const std::string& id) {
  auto s = std::make_unique<RawSocket>(server);
  s->ws.write(boost::asio::buffer(json{{"type", "register"}, {"agent_id", id}}.dump()));
  auto reply = s->read();
  EXPECT_EQ(reply.value("type", ""), "registered") << reply.dump();
  return s;
}

// The next message of `type` (directory news such as agent-joined may come first), or a
// discarded value once the connection is closed.
json nextOfType(RawSocket& s, const std::string& type) {
  for (;;) {
    auto m = s.read();
    if (m.is_discarded() || m.value("type", "") == type) return m;
  }
}

// The server still registers a newcomer and relays between two clients.
void expectServesWellBehavedClients(const Server& server, const std::string& tag) {
  Client a(clientFor(server, tag + "-a")), b(clientFor(server, tag + "-b"));
  std::promise<std::string> got;
  b.onRelay([&](const std::string& from, const std::string&, const json&) { got.set_value(from); });
  a.connect();
  b.connect();
  ASSERT_TRUE(a.waitRegistered(5s)) << tag;
  ASSERT_TRUE(b.waitRegistered(5s)) << tag;
  a.send(tag + "-b", "app", {{"hello", 1}});
  auto f = got.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready) << tag;
  EXPECT_EQ(f.get(), tag + "-a");
}

TEST(HostileSignalingClient, CannotSpeakForTheServer) {
  Server server(loopbackServer());
  server.start();
  Client victim(clientFor(server, "victim"));
  std::mutex mutex;
  std::set<std::string> joined, keyed;
  victim.onAgentJoined([&](const std::string& id) {
    std::lock_guard lock(mutex);
    joined.insert(id);
  });
  victim.onPublicKey([&](const std::string& id, const std::string&) {
    std::lock_guard lock(mutex);
    keyed.insert(id);
  });
  std::atomic<int> relays{0};
  victim.onRelay([&](const std::string&, const std::string&, const json&) { ++relays; });
  victim.connect();
  ASSERT_TRUE(victim.waitRegistered(5s));

  auto attacker = registered(server, "attacker");
  const json forged[] = {
      {{"type", "agent-joined"}, {"to", "victim"}, {"agent_id", "ghost"}, {"public_key", kKey}},
      {{"type", "registered"},
       {"to", "victim"},
       {"agent_id", "victim"},
       {"connected_agents", {"ghost-1", "ghost-2"}},
       {"public_keys", {{"ghost-1", kKey}}}},
      {{"type", "agent-left"}, {"to", "victim"}, {"agent_id", "attacker"}},
      {{"type", "error"}, {"to", "victim"}, {"code", "unauthorized"}, {"message", "forged"}},
  };
  for (const auto& m : forged) {
    attacker->ws.write(boost::asio::buffer(m.dump()));
    auto reply = attacker->read();
    EXPECT_EQ(reply.value("type", ""), "error") << m.dump();
    EXPECT_EQ(reply.value("code", ""), "bad_message") << reply.dump();
  }
  // A message the server does relay still arrives, so the forged ones had their chance.
  attacker->ws.write(boost::asio::buffer(json{{"type", "app"}, {"to", "victim"}}.dump()));
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (relays == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(relays.load(), 1);
  std::lock_guard lock(mutex);
  EXPECT_EQ(joined, std::set<std::string>{"attacker"});
  EXPECT_TRUE(keyed.empty());  // the attacker announced no key; no forged key was taken
  EXPECT_EQ(victim.agents(), std::vector<std::string>{"attacker"});
}

TEST(HostileSignalingClient, IdsThatAreNotIdsAreRefused) {
  Server server(loopbackServer());
  server.start();
  const std::string bad[] = {"line\nbreak",
                             "carriage\rreturn",
                             "\x1b[31mred",
                             "quote\"d",
                             "space d",
                             "",
                             "a/b",
                             "tab\t",
                             "\xc3\xa9t\xc3\xa9",
                             std::string(129, 'a'),
                             std::string("nul\0x", 5)};
  for (const auto& id : bad) {
    RawSocket s(server);
    s.ws.write(boost::asio::buffer(json{{"type", "register"}, {"agent_id", id}}.dump(
        -1, ' ', false, json::error_handler_t::replace)));
    auto reply = s.read();
    EXPECT_EQ(reply.value("code", ""), "bad_agent_id") << json(id).dump() << " " << reply.dump();
  }
  EXPECT_EQ(server.agentCount(), 0u);
  for (const auto& good :
       std::vector<std::string>{"agent-7", "a.b_c:d@e-f", std::string(128, 'z')}) {
    auto s = registered(server, good);
    (void)s;
  }
  // A relay addressed to a malformed id is refused without echoing it.
  auto sender = registered(server, "sender");
  sender->ws.write(boost::asio::buffer(json{{"type", "app"}, {"to", "x\x1b[2J"}}.dump()));
  auto reply = sender->read();
  EXPECT_EQ(reply.value("code", ""), "bad_message");
  EXPECT_EQ(reply.dump().find("\\u001b"), std::string::npos) << reply.dump();
  // So is a type that is not a type.
  sender->ws.write(boost::asio::buffer(json{{"type", "a\nb"}, {"to", "sender"}}.dump()));
  EXPECT_EQ(sender->read().value("code", ""), "bad_message");
}

TEST(HostileSignalingClient, DeepNestingInARelayIsRefusedNotRecursed) {
  ServerConfig config = loopbackServer();
  config.maxFrameBytes = 4 << 20;
  Server server(config);
  server.start();
  auto attacker = registered(server, "attacker");
  auto victim = registered(server, "victim");
  const std::size_t depth = 200000;
  std::string deep = R"({"type":"app","to":"victim","x":)" + std::string(depth, '[') +
                     std::string(depth, ']') + "}";
  attacker->ws.write(boost::asio::buffer(deep));
  auto reply = nextOfType(*attacker, "error");
  EXPECT_EQ(reply.value("code", ""), "bad_message") << reply.dump().substr(0, 200);
  expectServesWellBehavedClients(server, "after-deep");
}

TEST(HostileSignalingClient, AClientThatNeverReadsIsClosedAtItsQueueLimit) {
  ServerConfig config = loopbackServer();
  config.maxFrameBytes = 64 * 1024;
  config.maxMessagesPerSecond = 100000;
  Server server(config);
  server.start();
  auto attacker = registered(server, "attacker");
  // A tiny receive buffer so the kernel holds little of what the server writes to it.
  int small = 4096;
  ::setsockopt(boost::beast::get_lowest_layer(attacker->ws).socket().native_handle(), SOL_SOCKET,
               SO_RCVBUF, &small, sizeof small);
  const std::string relay =
      json{{"type", "app"}, {"to", "attacker"}, {"pad", std::string(60000, 'p')}}.dump();
  boost::beast::error_code ec;
  std::size_t written = 0;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  // Relays to itself, never reading: the server's queue for it fills until the server closes it.
  while (!ec && std::chrono::steady_clock::now() < deadline) {
    attacker->ws.write(boost::asio::buffer(relay), ec);
    if (!ec) written += relay.size();
  }
  EXPECT_TRUE(ec) << "the server kept a non-reading client after " << written << " bytes";
  // Without the limit the server would hold all of it; the limit is 2 MiB per client.
  EXPECT_LT(written, 64u << 20);
  expectServesWellBehavedClients(server, "after-hoarder");
}

TEST(HostileSignalingClient, ConnectionsAndRegistrationsAreCapped) {
  ServerConfig config = loopbackServer();
  config.maxConnectionsPerAddress = 4;
  config.maxAgents = 3;
  Server server(config);
  server.start();
  std::vector<std::unique_ptr<RawSocket>> held;
  for (int i = 0; i < 3; ++i) held.push_back(registered(server, "squatter-" + std::to_string(i)));
  // The fourth connection is accepted, but the directory is full.
  auto fourth = std::make_unique<RawSocket>(server);
  fourth->ws.write(boost::asio::buffer(json{{"type", "register"}, {"agent_id", "late"}}.dump()));
  EXPECT_EQ(fourth->read().value("code", ""), "server_full");
  // A fifth connection from the same address is refused before the WebSocket handshake.
  EXPECT_THROW(RawSocket over(server), boost::system::system_error);
  EXPECT_EQ(server.agentCount(), 3u);
  // Leaving frees both: a squatter goes and a newcomer takes its place.
  held.pop_back();
  fourth.reset();
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (server.agentCount() != 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  auto newcomer = registered(server, "newcomer");
  EXPECT_EQ(server.agentCount(), 3u);
}

// Runs out of file descriptors in this process (the server's and the attacker's alike), then
// frees them: the server must accept again, not stay deaf after its first accept error.
TEST(HostileSignalingClient, RunningOutOfDescriptorsDoesNotStopTheAcceptor) {
  Server server(loopbackServer());
  server.start();
  // Serve once first, and fail one handshake: UBSan's type check reads /proc/self/maps for a type
  // it has not seen, which it cannot while the process has no descriptor left (a false "invalid
  // vptr" in the sanitizer build); the server's own code paths, the WebSocket error category
  // among them, are then known to it.
  expectServesWellBehavedClients(server, "before-emfile");
  {
    // And a connection closed before its handshake: the error path the flood below takes.
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket early(io);
    early.connect({boost::asio::ip::address_v4::loopback(), server.port()});
    early.close();
    std::this_thread::sleep_for(100ms);
  }
  rlimit original{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &original), 0);
  rlimit low = original;
  low.rlim_cur = 256;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  std::vector<int> fds;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(server.port());
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (;;) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;
    fds.push_back(fd);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) break;
  }
  std::this_thread::sleep_for(300ms);  // the server's accepts fail with EMFILE meanwhile
  for (int fd : fds) ::close(fd);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &original), 0);
  EXPECT_GT(fds.size(), 50u);
  expectServesWellBehavedClients(server, "after-emfile");
}

// A token is bound to an id and expires; one that is valid for longer than the server's maximum
// lifetime (30 days by default), such as a "forever" token, is refused like an expired one.
TEST(HostileSignalingClient, TokensOutlivingTheMaximumLifetimeAreRefused) {
  Server server(loopbackServer("s3cret"));
  server.start();
  auto tryRegister = [&](const std::string& id, std::chrono::system_clock::time_point expiry) {
    RawSocket s(server);
    s.ws.write(boost::asio::buffer(
        json{{"type", "register"}, {"agent_id", id}, {"token", makeAuthToken("s3cret", id, expiry)}}
            .dump()));
    return s.read().value("type", "") == "registered" ? std::string("registered")
                                                      : std::string("refused");
  };
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(tryRegister("day", now + 24h), "registered");
  EXPECT_EQ(tryRegister("month", now + kMaxTokenLifetime - 1h), "registered");
  EXPECT_EQ(tryRegister("year", now + 24h * 365), "refused");
  EXPECT_EQ(tryRegister("century", now + 24h * 365 * 100), "refused");
  // Directly, with a server's own maximum.
  const auto token = makeAuthToken("s3cret", "a", now + 2h);
  EXPECT_TRUE(verifyAuthToken("s3cret", "a", token, std::chrono::hours(3)));
  EXPECT_FALSE(verifyAuthToken("s3cret", "a", token, std::chrono::hours(1)));
}

}  // namespace
}  // namespace ifmesh::signaling
