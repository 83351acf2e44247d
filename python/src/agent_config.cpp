#include "agent_config.hpp"

#include <pybind11/stl.h>

#include <string>

#include "dict_options.hpp"
#include "ifmesh/error.hpp"

namespace py = pybind11;

namespace ifmesh::python {

namespace {

void takeMs(const py::dict& d, const char* key, std::chrono::milliseconds& out) {
  long long ms = 0;
  if (!take(d, key, ms)) return;
  if (ms < 0) throw Error(Errc::InvalidArgument, std::string("option '") + key + "' is negative");
  out = std::chrono::milliseconds(ms);
}

void applyBandwidth(const py::dict& d, BandwidthConfig& b) {
  take(d, "enabled", b.enabled);
  takeMs(d, "check_interval_ms", b.checkInterval);
  take(d, "queue_max_messages", b.queue.maxMessages);
  take(d, "queue_max_bytes", b.queue.maxBytes);
  std::string policy;
  if (take(d, "queue_policy", policy)) {
    if (policy == "fail")
      b.queue.policy = QueuePolicy::Fail;
    else if (policy == "block")
      b.queue.policy = QueuePolicy::Block;
    else if (policy == "drop_oldest")
      b.queue.policy = QueuePolicy::DropOldest;
    else
      throw Error(Errc::InvalidArgument,
                  "queue_policy '" + policy + "': expected fail, block or drop_oldest");
  }
  takeMs(d, "block_timeout_ms", b.queue.blockTimeout);
  take(d, "compression", b.compression.enabled);
}

void applyTopology(const std::string& t, AgentConfig& c) {
  if (t.empty() || t == "manual") {
    c.topology = Topology::Manual;
  } else if (t == "all" || t == "full") {
    c.topology = Topology::FullMesh;
  } else if (t.rfind("k=", 0) == 0 && t.size() > 2 &&
             t.find_first_not_of("0123456789", 2) == std::string::npos && t.size() < 9) {
    c.topology = Topology::PartialMesh;
    c.partialMeshK = std::stoul(t.substr(2));
    if (c.partialMeshK == 0) throw Error(Errc::InvalidArgument, "topology k=N needs N >= 1");
  } else if (t.rfind("hub=", 0) == 0 && t.size() > 4) {
    c.topology = Topology::HubAndSpoke;
    c.hubId = t.substr(4);
  } else {
    throw Error(Errc::InvalidArgument, "topology '" + t + "': expected manual, all, k=N or hub=ID");
  }
}

}  // namespace

AgentConfig agentConfigFrom(const py::dict& d) {
  AgentConfig c;
  if (!take(d, "id", c.agentId) || c.agentId.empty())
    throw Error(Errc::InvalidArgument, "option 'id' is required");
  if (!take(d, "signaling_url", c.signalingUrl) || c.signalingUrl.empty())
    throw Error(Errc::InvalidArgument, "option 'signaling_url' is required");
  take(d, "auth_token", c.authToken);
  take(d, "ca_file", c.signalingCaFile);
  take(d, "key_file", c.identity.keyFile);
  take(d, "state_dir", c.state.directory);
  take(d, "state_sync", c.state.syncToDisk);
  take(d, "local_addresses", c.localAddresses);
  std::vector<std::string> stun;
  if (take(d, "stun", stun))
    for (auto& url : stun) c.iceServers.push_back({std::move(url), "", ""});
  std::string topology;
  take(d, "topology", topology);
  applyTopology(topology, c);
  take(d, "max_message_bytes", c.maxMessageBytes);
  take(d, "max_connecting_peers", c.maxConnectingPeers);
  std::string signatures;
  if (take(d, "message_signatures", signatures)) {
    if (signatures == "always")
      c.identity.messageSignatures = MessageSignatures::Always;
    else if (signatures == "relayed")
      c.identity.messageSignatures = MessageSignatures::Relayed;
    else
      throw Error(Errc::InvalidArgument,
                  "message_signatures '" + signatures + "': expected always or relayed");
  }
  std::string witnessFile;
  if (take(d, "witness_file", witnessFile) && !witnessFile.empty()) {
    c.witness = std::make_shared<Witness>();
    c.witness->addSink(std::make_shared<FileWitnessSink>(witnessFile));
  }
  if (d.contains("bandwidth") && !d["bandwidth"].is_none()) {
    if (!py::isinstance<py::dict>(d["bandwidth"]))
      throw Error(Errc::InvalidArgument, "option 'bandwidth' must be a dict");
    applyBandwidth(d["bandwidth"].cast<py::dict>(), c.bandwidth);
  }
  if (d.contains("healing") && !d["healing"].is_none()) {
    if (!py::isinstance<py::dict>(d["healing"]))
      throw Error(Errc::InvalidArgument, "option 'healing' must be a dict");
    auto h = d["healing"].cast<py::dict>();
    takeMs(h, "initial_delay_ms", c.healing.initialDelay);
    takeMs(h, "max_delay_ms", c.healing.maxDelay);
    takeMs(h, "attempt_timeout_ms", c.healing.attemptTimeout);
    take(h, "max_retries", c.healing.maxRetries);
  }
  return c;
}

}  // namespace ifmesh::python
