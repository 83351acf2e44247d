#include "mesh/agent_signaling.hpp"

namespace ifmesh::detail {

void AgentSignaling::start(const AgentConfig& config, const std::string& publicKey,
                           std::weak_ptr<SignalingEvents> events) {
  signaling::ClientConfig sc;
  sc.url = config.signalingUrl;
  sc.agentId = config.agentId;
  sc.token = config.authToken;
  sc.tlsCaFile = config.signalingCaFile;
  sc.publicKey = publicKey;
  client_ = std::make_unique<signaling::Client>(sc);
  // Runs on the signaling client's thread, possibly while the agent is being destroyed: it
  // touches only the loop (which outlives every agent) and the weak pointer, never `this`.
  auto onLoop = [events = std::move(events), &loop = loop_](auto fn) {
    loop.post([events, fn] {
      if (auto e = events.lock(); e && e->listening()) fn(*e);
    });
  };
  // Keys arrive before the directory entries that use them, on the same ordered path.
  client_->onPublicKey([onLoop](const std::string& id, const std::string& key) {
    onLoop([id, key](SignalingEvents& e) { e.keyAnnounced(id, key); });
  });
  client_->onRegistered([onLoop](const std::vector<std::string>& agents) {
    onLoop([agents](SignalingEvents& e) { e.registered(agents); });
  });
  client_->onAgentJoined(
      [onLoop](const std::string& id) { onLoop([id](SignalingEvents& e) { e.agentJoined(id); }); });
  client_->onAgentLeft(
      [onLoop](const std::string& id) { onLoop([id](SignalingEvents& e) { e.agentLeft(id); }); });
  client_->onRelay([onLoop](const std::string& from, const std::string& type,
                            const nlohmann::json& msg) {
    auto signal = PeerSignal::parse(type, msg);
    if (!signal) return;  // not a link's
    onLoop([from, signal = std::move(*signal)](SignalingEvents& e) { e.peerSignal(from, signal); });
  });
  client_->onError([onLoop](const std::string& code, const std::string& message) {
    onLoop([code, message](SignalingEvents& e) { e.signalingError(code, message); });
  });
  client_->onDisconnected(
      [onLoop] { onLoop([](SignalingEvents& e) { e.signalingDisconnected(); }); });
  client_->connect();
}

void AgentSignaling::send(const std::string& to, const std::string& type, nlohmann::json body) {
  if (client_) client_->send(to, type, std::move(body));
}

void AgentSignaling::close() {
  if (client_) client_->close();
  client_.reset();
}

}  // namespace ifmesh::detail
