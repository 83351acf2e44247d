// `ifmesh agent` runs one agent; `ifmesh send` sends one message and prints the reply.
#include <csignal>
#include <cstdio>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <thread>

#include "commands.hpp"
#include "ifmesh/agent.hpp"
#include "ifmesh/error.hpp"
#include "secret_source.hpp"

namespace ifmesh::cli {

namespace {

volatile std::sig_atomic_t stopRequested = 0;

struct AgentArgs {
  std::string id, signal = "ws://127.0.0.1:8443", connect, witnessFile, token, tokenFile, caFile,
                  recordFile, keyFile;
  std::vector<std::string> stun, localAddresses;
  bool echo = false;
  bool verbose = false;
};

void addCommon(CLI::App* cmd, AgentArgs& a) {
  cmd->add_option("--id", a.id, "This agent's id")->required();
  cmd->add_option("--signal", a.signal, "Signaling server URL")->default_val("ws://127.0.0.1:8443");
  cmd->add_option("--token", a.token,
                  "Auth token when the server requires one (visible in ps: prefer --token-file "
                  "or IFMESH_TOKEN)");
  cmd->add_option("--token-file", a.tokenFile, "Read the auth token from this file's first line")
      ->check(CLI::ExistingFile);
  cmd->add_option("--ca-file", a.caFile,
                  "wss:// only: PEM CA the server's certificate must chain to (default: the "
                  "system's CAs)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--stun", a.stun, "STUN server URL (stun:host:port)");
  cmd->add_option("--local-address", a.localAddresses, "Gather ICE candidates only on these");
  cmd->add_option("--witness", a.witnessFile, "Append audit events to this JSON-lines file");
  cmd->add_option("--key-file", a.keyFile,
                  "Ed25519 identity key (PEM), created when missing; default: a fresh key per run");
}

AgentConfig configFrom(const AgentArgs& a) {
  AgentConfig c;
  c.agentId = a.id;
  c.signalingUrl = a.signal;
  c.authToken = secretFrom(a.token, a.tokenFile, "--token-file", "IFMESH_TOKEN");
  c.signalingCaFile = a.caFile;
  c.localAddresses = a.localAddresses;
  c.identity.keyFile = a.keyFile;
  for (const auto& s : a.stun) c.iceServers.push_back({s, "", ""});
  if (!a.witnessFile.empty()) {
    c.witness = std::make_shared<Witness>();
    c.witness->addSink(std::make_shared<FileWitnessSink>(a.witnessFile));
  }
  if (a.connect == "all") c.topology = Topology::FullMesh;
  if (a.connect.rfind("k=", 0) == 0) {
    c.topology = Topology::PartialMesh;
    c.partialMeshK = std::stoul(a.connect.substr(2));
  }
  if (a.connect.rfind("hub=", 0) == 0) {
    c.topology = Topology::HubAndSpoke;
    c.hubId = a.connect.substr(4);
  }
  return c;
}

int runAgent(const AgentArgs& a) {
  // One JSON line per received message, flushed before the callback returns (and so before the
  // message is acknowledged): a process killed at any moment leaves a record of all it took.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> record(nullptr, &std::fclose);
  if (!a.recordFile.empty()) {
    record.reset(std::fopen(a.recordFile.c_str(), "a"));
    if (!record) {
      std::cerr << "cannot open " << a.recordFile << "\n";
      return 1;
    }
  }
  Agent agent(configFrom(a));
  agent.onPeerState([&](const std::string& peer, PeerState s) {
    std::cout << "peer " << peer << " " << toString(s) << std::endl;
  });
  agent.onMessage([&](const IFMessage& m) {
    if (record) {
      std::string line =
          nlohmann::json{{"source", m.source}, {"seq", m.sequence}, {"id", m.id}}.dump() + "\n";
      std::fputs(line.c_str(), record.get());
      std::fflush(record.get());
    } else {
      // One short line per message: payloads can be large, and stdout may be a pipe nobody
      // drains.
      std::cout << "message from " << m.source << " seq=" << m.sequence << " id=" << m.id
                << " bytes=" << m.payload.dump().size() << "\n";
    }
    if (a.verbose) std::cout << serialize(m) << "\n";
    std::cout.flush();
    if (a.echo) {
      IFMessage reply;
      reply.payload = {{"echo", m.payload}, {"in_reply_to", m.id}};
      reply.traceId = m.traceId;
      reply.priority = m.priority;  // an urgent message gets an urgent answer
      agent.send(m.source, reply);  // callbacks may call back into the agent
    }
  });
  agent.connectToSignaling();
  if (!agent.waitRegistered(std::chrono::seconds(10))) {
    std::cerr << "could not register with " << a.signal << "\n";
    return 1;
  }
  std::cout << "agent " << a.id << " registered" << std::endl;
  std::signal(SIGINT, [](int) { stopRequested = 1; });
  std::signal(SIGTERM, [](int) { stopRequested = 1; });
  while (!stopRequested) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return 0;
}

int runSend(const AgentArgs& a, const std::string& to, const std::string& payload, int timeoutMs) {
  IFMessage m;
  m.payload = nlohmann::json::parse(payload, nullptr, false);
  if (m.payload.is_discarded()) {
    std::cerr << "--payload is not valid JSON\n";
    return 2;
  }
  Agent agent(configFrom(a));
  std::promise<IFMessage> reply;
  std::atomic<bool> replied{false};
  agent.onMessage([&](const IFMessage& r) {
    if (r.source == to && !replied.exchange(true)) reply.set_value(r);
  });
  agent.connectToSignaling();
  if (!agent.waitRegistered(std::chrono::seconds(10))) {
    std::cerr << "could not register with " << a.signal << "\n";
    return 1;
  }
  try {
    agent.send(to, m);
  } catch (const Error& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  auto f = reply.get_future();
  if (f.wait_for(std::chrono::milliseconds(timeoutMs)) != std::future_status::ready) {
    std::cerr << "no reply from " << to << " within " << timeoutMs << " ms\n";
    return 3;
  }
  std::cout << serialize(f.get()) << std::endl;
  return 0;
}

// Runs a command's body: a failure is one line on stderr and exit code 1, never an abort.
int reportingErrors(const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

void addAgentCommands(CLI::App& app, int& exitCode) {
  auto args = std::make_shared<AgentArgs>();
  CLI::App* agent = app.add_subcommand("agent", "Run one agent");
  addCommon(agent, *args);
  agent->add_option("--connect", args->connect, "Topology: all | k=N | hub=ID");
  agent->add_flag("--echo", args->echo, "Answer every message with an echo");
  agent->add_flag("--verbose", args->verbose, "Print every message in full");
  agent->add_option("--record", args->recordFile,
                    "Append {source, seq, id} of every received message to this JSON-lines file "
                    "(flushed per line) instead of printing it");
  agent->callback(
      [args, &exitCode] { exitCode = reportingErrors([&] { return runAgent(*args); }); });

  auto sendArgs = std::make_shared<AgentArgs>();
  auto to = std::make_shared<std::string>();
  auto payload = std::make_shared<std::string>("{}");
  auto timeout = std::make_shared<int>(10000);
  CLI::App* send = app.add_subcommand("send", "Send one IFMessage and print the reply");
  addCommon(send, *sendArgs);
  send->add_option("--to", *to, "Destination agent")->required();
  send->add_option("--payload", *payload, "JSON payload");
  send->add_option("--timeout-ms", *timeout, "How long to wait for the reply");
  send->callback([sendArgs, to, payload, timeout, &exitCode] {
    exitCode = reportingErrors([&] { return runSend(*sendArgs, *to, *payload, *timeout); });
  });
}

}  // namespace ifmesh::cli
