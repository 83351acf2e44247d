// Two agents find each other through an embedded signaling server, link over a DataChannel and
// exchange IFMessages: alice asks, bob answers. Everything stays on 127.0.0.1.
#include <chrono>
#include <future>
#include <iostream>
#include <string>

#include "ifmesh/ifmesh.hpp"

int main() {
  using namespace std::chrono_literals;
  ifmesh::signaling::ServerConfig serverConfig;
  serverConfig.port = 0;  // any free port
  ifmesh::signaling::Server server(serverConfig);
  server.start();

  auto configFor = [&](const std::string& id) {
    ifmesh::AgentConfig c;
    c.agentId = id;
    c.signalingUrl = "ws://127.0.0.1:" + std::to_string(server.port());
    c.localAddresses = {"127.0.0.1"};
    c.topology = ifmesh::Topology::FullMesh;  // link to every agent in the directory
    return c;
  };
  std::promise<ifmesh::IFMessage> answer;
  ifmesh::Agent alice(configFor("alice")), bob(configFor("bob"));

  // Bob answers every question; callbacks run on the agent's I/O thread and may send.
  bob.onMessage([&bob](const ifmesh::IFMessage& question) {
    ifmesh::IFMessage reply;
    reply.payload = {{"answer", 42}, {"to", question.payload["question"]}};
    bob.send(question.source, reply);
  });
  alice.onMessage([&](const ifmesh::IFMessage& m) { answer.set_value(m); });

  alice.connectToSignaling();
  bob.connectToSignaling();
  // Registered, or why not: the server's refusal (duplicate_id, unauthorized ...), a connection
  // that failed (unreachable, tls_error), or a timeout.
  for (ifmesh::Agent* agent : {&alice, &bob}) {
    if (auto r = agent->waitRegistered(5s); !r) {
      std::cerr << agent->id() << " not registered: " << r.code << ": " << r.message << "\n";
      return 1;
    }
  }
  // Delivered exactly once, in order, whenever the link is up (it is being formed right now).
  ifmesh::IFMessage question;
  question.payload = {{"question", "the meaning of life"}};
  std::uint64_t seq = alice.send("bob", question);
  std::cout << "alice sent message " << seq << " to bob\n";

  auto reply = answer.get_future();
  if (reply.wait_for(10s) != std::future_status::ready) {
    std::cerr << "no answer\n";
    return 1;
  }
  ifmesh::IFMessage m = reply.get();
  std::cout << "alice got from " << m.source << ": " << m.payload.dump() << "\n";
  bob.onMessage(nullptr);
  alice.onMessage(nullptr);
  return 0;
}
