// Two PeerConnections in one process open a DataChannel over 127.0.0.1 and echo a message.
// A real application carries the offer, the answer and the candidates over its own signaling
// (ifmesh's Agent does it for you, see agent_pair.cpp); here they are handed over directly.
#include <chrono>
#include <future>
#include <iostream>
#include <memory>
#include <string>
#include <variant>

#include "ifmesh/ifmesh.hpp"

int main() {
  std::promise<void> opened;
  std::promise<std::string> echoed;
  ifmesh::RtcConfiguration config;
  config.localAddresses = {"127.0.0.1"};  // gather on loopback only
  ifmesh::PeerConnection alice(config), bob(config);

  // Trickle ICE: each side's candidates go to the other as they are found.
  alice.onLocalCandidate([&](const ifmesh::Candidate& c) { bob.addRemoteCandidate(c); });
  bob.onLocalCandidate([&](const ifmesh::Candidate& c) { alice.addRemoteCandidate(c); });

  // Bob sends every message back on the channel it came in on.
  std::shared_ptr<ifmesh::DataChannel> bobsChannel;
  bob.onDataChannel([&](std::shared_ptr<ifmesh::DataChannel> channel) {
    std::weak_ptr<ifmesh::DataChannel> weak = channel;
    channel->onMessage([weak](ifmesh::Message&& m) {
      if (auto c = weak.lock()) c->send(std::get<std::string>(m));
    });
    bobsChannel = std::move(channel);
  });

  auto channel = alice.createDataChannel("echo");
  channel->onOpen([&] { opened.set_value(); });
  channel->onMessage([&](ifmesh::Message&& m) { echoed.set_value(std::get<std::string>(m)); });

  bob.setRemoteDescription(alice.createOffer());
  alice.setRemoteDescription(bob.createAnswer());

  using namespace std::chrono_literals;
  if (opened.get_future().wait_for(10s) != std::future_status::ready) {
    std::cerr << "the channel did not open: " << alice.stats().failureReason << "\n";
    return 1;
  }
  channel->send(std::string("hello over a DataChannel"));
  auto reply = echoed.get_future();
  if (reply.wait_for(5s) != std::future_status::ready) {
    std::cerr << "no echo\n";
    return 1;
  }
  std::cout << "echo: " << reply.get() << "\n";
  // Callbacks refer to locals: unhook them before those go away.
  alice.onLocalCandidate(nullptr);
  bob.onLocalCandidate(nullptr);
  bob.onDataChannel(nullptr);
  channel->onMessage(nullptr);
  return 0;
}
