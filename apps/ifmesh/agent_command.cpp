// `ifmesh agent` runs one agent; `ifmesh send` sends one message and prints the reply.
#include <csignal>
#include <cstdio>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "cli_log.hpp"
#include "commands.hpp"
#include "ifmesh/agent.hpp"
#include "ifmesh/error.hpp"
#include "json/json_writer.hpp"
#include "secret_source.hpp"
#include "store/message_journal.hpp"
#include "usage.hpp"

namespace ifmesh::cli {

namespace {

volatile std::sig_atomic_t stopRequested = 0;

struct AgentArgs {
  std::string id, signal = "ws://127.0.0.1:8443", connect, witnessFile, token, tokenFile, caFile,
                  recordFile, keyFile, stateDir, messageSignatures = "always", turnUsername,
                  turnPassword, turnPasswordFile;
  std::vector<std::string> stun, turn, localAddresses;
  int turnAfterFailures = 3;
  LogOptions log;
  bool echo = false;
  bool verbose = false;
  bool noStateSync = false;
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
  cmd->add_option("--turn", a.turn,
                  "TURN server URL (turn:host:port?transport=udp) a link falls back to after "
                  "--turn-after-failures failed direct attempts");
  cmd->add_option("--turn-username", a.turnUsername, "TURN long-term credential: user name");
  cmd->add_option("--turn-password", a.turnPassword,
                  "TURN long-term credential: password (visible in ps: prefer "
                  "--turn-password-file or IFMESH_TURN_PASSWORD)");
  cmd->add_option("--turn-password-file", a.turnPasswordFile,
                  "Read the TURN password from this file's first line")
      ->check(CLI::ExistingFile);
  cmd->add_option("--turn-after-failures", a.turnAfterFailures,
                  "Failed direct attempts before a link goes through --turn; 0: relay only from "
                  "the first attempt this agent offers")
      ->check(CLI::Range(0, 1000))
      ->default_val(3);
  cmd->add_option("--local-address", a.localAddresses, "Gather ICE candidates only on these");
  cmd->add_option("--witness", a.witnessFile, "Append audit events to this JSON-lines file");
  cmd->add_option("--key-file", a.keyFile,
                  "Ed25519 identity key (PEM), created when missing; default: a fresh key per run "
                  "(with --state-dir: DIR/identity.pem)");
  cmd->add_option("--state-dir", a.stateDir,
                  "Keep delivery state here (created when missing): a restarted agent resumes "
                  "without losing or repeating a message (docs/durability.md)");
  cmd->add_flag("--no-state-sync", a.noStateSync,
                "With --state-dir: no fsync per commit (survives a killed process, not a power "
                "loss)");
  cmd->add_option("--message-signatures", a.messageSignatures,
                  "always: sign and require a signature on every message; relayed: only on "
                  "messages that pass through a relay (a direct link is bound to the key by its "
                  "signed hello)")
      ->check(CLI::IsMember({"always", "relayed"}))
      ->default_val("always");
}

// The topology named by --connect: "", all, k=N (N >= 1) or hub=ID.
void applyTopology(const std::string& connect, AgentConfig& c) {
  if (connect.empty()) return;
  if (connect == "all") {
    c.topology = Topology::FullMesh;
  } else if (connect.rfind("k=", 0) == 0) {
    std::string n = connect.substr(2);
    if (n.empty() || n.size() > 6 || n.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(n) == 0)
      throw UsageError(flagError("--connect", connect, "k=N needs a whole number N >= 1"));
    c.topology = Topology::PartialMesh;
    c.partialMeshK = std::stoul(n);
  } else if (connect.rfind("hub=", 0) == 0) {
    checkAgentId("--connect hub=", connect.substr(4));
    c.topology = Topology::HubAndSpoke;
    c.hubId = connect.substr(4);
  } else {
    throw UsageError(flagError("--connect", connect, "expected all, k=N or hub=ID"));
  }
}

// Checks every argument before anything starts, so a mistake is reported at once. With a log,
// the agent's witness events are also log lines.
AgentConfig configFrom(const AgentArgs& a, CliLog* log = nullptr) {
  checkAgentId("--id", a.id);
  checkSignalingUrl("--signal", a.signal);
  for (const auto& s : a.stun) checkIceServerUrl("--stun", s);
  for (const auto& s : a.turn) {
    checkIceServerUrl("--turn", s);
    if (s.rfind("turn", 0) != 0) throw UsageError(flagError("--turn", s, "expected a turn: URL"));
  }
  AgentConfig c;
  c.agentId = a.id;
  c.signalingUrl = a.signal;
  c.authToken = secretFrom(a.token, a.tokenFile, "--token-file", "IFMESH_TOKEN");
  c.signalingCaFile = a.caFile;
  c.localAddresses = a.localAddresses;
  c.identity.keyFile = a.keyFile;
  c.state.directory = a.stateDir;
  c.state.syncToDisk = !a.noStateSync;
  c.identity.messageSignatures =
      a.messageSignatures == "relayed" ? MessageSignatures::Relayed : MessageSignatures::Always;
  for (const auto& s : a.stun) c.iceServers.push_back({s, "", ""});
  if (!a.turn.empty()) {
    std::string password = secretFrom(a.turnPassword, a.turnPasswordFile, "--turn-password-file",
                                      "IFMESH_TURN_PASSWORD");
    for (const auto& s : a.turn) c.turnServers.push_back({s, a.turnUsername, password});
  }
  c.healing.turnAfterFailures = a.turnAfterFailures;
  if (!a.witnessFile.empty() || log) c.witness = std::make_shared<Witness>();
  if (!a.witnessFile.empty()) c.witness->addSink(std::make_shared<FileWitnessSink>(a.witnessFile));
  if (log)
    c.witness->addSink(std::make_shared<CallbackWitnessSink>(
        [log](const WitnessEvent& e) { log->witnessEvent(e); }));
  applyTopology(a.connect, c);
  return c;
}

// Why a message of `ifmesh send` is not delivered, once we are registered: the first error the
// signaling server reported (a peer that is not there, a rate limit), else a message reported
// undeliverable. The agent's callbacks share the state: one may still run on the I/O thread after
// this object is gone (it goes before the agent it watches), and writes into state that lives
// until the agent drops its callbacks.
class DeliveryFailures {
 public:
  explicit DeliveryFailures(Agent& agent) {
    agent.onSignalingError([s = state_](const std::string& code, const std::string& message) {
      std::lock_guard lock(s->mutex);
      if (!s->signaling) s->signaling = code + ": " + message;
    });
    agent.onUndeliverable([s = state_](const IFMessage&, const std::string& reason) {
      std::lock_guard lock(s->mutex);
      s->undeliverable = reason;
    });
  }
  std::optional<std::string> first() {
    std::lock_guard lock(state_->mutex);
    return state_->signaling ? state_->signaling : state_->undeliverable;
  }

 private:
  struct State {
    std::mutex mutex;
    std::optional<std::string> signaling, undeliverable;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// Registers, or throws at the first refusal (duplicate_id, unauthorized ...) or connection
// failure with what the server or the socket said, instead of waiting out a timeout.
void registerOrThrow(Agent& agent, const std::string& url) {
  agent.connectToSignaling();
  RegistrationResult r = agent.waitRegistered(std::chrono::seconds(10));
  if (r) return;
  if (r.code == "timeout")
    throw std::runtime_error("signaling server " + url + " did not answer within 10 s");
  throw std::runtime_error("signaling server " + url + " did not register us: " + r.code + ": " +
                           r.message);
}

int runAgent(const AgentArgs& a) {
  // A process killed at any moment leaves a record of all it took (store/message_journal.hpp):
  // one line {source, seq, id, priority, incarnation} per message.
  std::unique_ptr<detail::store::MessageJournal> record;
  if (!a.recordFile.empty()) {
    try {
      record =
          std::make_unique<detail::store::MessageJournal>(a.recordFile, !a.stateDir.empty(), "seq");
    } catch (const Error& e) {
      throw std::runtime_error(std::string("--record ") + e.what());
    }
  }
  CliLog log(a.log);
  Agent agent(configFrom(a, &log));
  agent.onPeerState([&](const std::string& peer, PeerState s) {
    log.write(s == PeerState::Unreachable ? LogLevel::Error : LogLevel::Info, "peer_state",
              "peer " + peer + " " + toString(s), {{"peer", peer}, {"state", toString(s)}});
  });
  agent.onMessage([&](const IFMessage& m) {
    if (record) {
      const auto line = nlohmann::json{
          {"source", m.source},
          {"seq", m.sequence},
          {"id", m.id},
          {"priority", toString(m.priority)},
          {"incarnation",
           m.incarnation}}.dump();
      if (!record->write(m, line)) {  // recorded before this process started
        log.write(LogLevel::Info, "already_recorded",
                  "message from " + m.source + " seq=" + std::to_string(m.sequence) +
                      " was recorded before: skipped",
                  {{"source", m.source}, {"seq", m.sequence}, {"id", m.id}});
        return;
      }
    } else if (log.enabled(LogLevel::Info)) {
      // One short line per message: payloads can be large, and stdout may be a pipe nobody
      // drains. The size is the payload's JSON text, written into a buffer kept for the next.
      thread_local std::string text;
      text.clear();
      detail::json::append(text, m.payload);
      const std::size_t bytes = text.size();
      log.write(LogLevel::Info, "message",
                "message from " + m.source + " seq=" + std::to_string(m.sequence) + " id=" + m.id +
                    " bytes=" + std::to_string(bytes),
                {{"source", m.source}, {"seq", m.sequence}, {"id", m.id}, {"bytes", bytes}});
    }
    if (a.verbose) log.write(LogLevel::Info, "message_body", serialize(m));
    if (a.echo) {
      IFMessage reply;
      reply.payload = {{"echo", m.payload}, {"in_reply_to", m.id}};
      reply.traceId = m.traceId;
      reply.priority = m.priority;  // an urgent message gets an urgent answer
      agent.send(m.source, reply);  // callbacks may call back into the agent
    }
  });
  registerOrThrow(agent, a.signal);
  log.write(LogLevel::Info, "registered", "agent " + a.id + " registered with " + a.signal,
            {{"agent", a.id}, {"signal", a.signal}});
  // Later refusals (a peer that is gone, rate limits) are reported and the agent goes on.
  agent.onSignalingError([&log](const std::string& code, const std::string& message) {
    log.write(LogLevel::Warn, "signaling_error", "signaling error " + code + ": " + message,
              {{"code", code}, {"message", message}});
  });
  std::signal(SIGINT, [](int) { stopRequested = 1; });
  std::signal(SIGTERM, [](int) { stopRequested = 1; });
  while (!stopRequested) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return 0;
}

// Sends one message and waits until the destination acknowledges it (it was delivered to the
// destination's application), or with expectReply until the destination sends something back.
int runSend(const AgentArgs& a, const std::string& to, const std::string& payload, int timeoutMs,
            bool expectReply) {
  IFMessage m;
  m.payload = nlohmann::json::parse(payload, nullptr, false);
  if (m.payload.is_discarded()) throw UsageError(flagError("--payload", payload, "not valid JSON"));
  checkAgentId("--to", to);
  if (to == a.id) throw UsageError(flagError("--to", to, "is this agent's own --id"));
  Agent agent(configFrom(a));
  std::mutex mutex;
  std::optional<IFMessage> reply;
  agent.onMessage([&](const IFMessage& r) {
    std::lock_guard lock(mutex);
    if (r.source == to && !reply) reply = r;
  });
  registerOrThrow(agent, a.signal);
  DeliveryFailures failures(agent);
  auto start = std::chrono::steady_clock::now();
  std::uint64_t seq = agent.send(to, m);
  auto deadline = start + std::chrono::milliseconds(timeoutMs);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto e = failures.first()) throw std::runtime_error("not delivered to " + to + ": " + *e);
    {
      std::lock_guard lock(mutex);
      if (expectReply && reply) {
        std::cout << serialize(*reply) << std::endl;
        return 0;
      }
    }
    if (!expectReply && agent.unacknowledged(to) == 0) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - start)
                    .count();
      std::cout << "delivered to " << to << " seq=" << seq << " in " << ms << " ms" << std::endl;
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  throw std::runtime_error((expectReply ? "no reply from " : "no acknowledgement from ") + to +
                           " within " + std::to_string(timeoutMs) + " ms");
}

// Sends messages numbered n = 1..count (payload {"n": n} over --payload) and waits until every
// one is acknowledged. With a state directory a run that was killed resumes: the messages it
// accepted are sent by the agent from its outbox, and this run goes on after the last of them.
int runSendCount(AgentArgs a, const std::string& to, const std::string& payload, int timeoutMs,
                 std::uint64_t count) {
  nlohmann::json base = nlohmann::json::parse(payload, nullptr, false);
  if (!base.is_object())
    throw UsageError(flagError("--payload", payload, "must be a JSON object with --count"));
  checkAgentId("--to", to);
  if (to == a.id) throw UsageError(flagError("--to", to, "is this agent's own --id"));
  AgentConfig c = configFrom(a);
  // A full queue waits for acknowledgements, for as long as the whole run may take.
  c.bandwidth.queue.policy = QueuePolicy::Block;
  c.bandwidth.queue.blockTimeout = std::chrono::milliseconds(timeoutMs);
  Agent agent(std::move(c));
  registerOrThrow(agent, a.signal);
  DeliveryFailures failures(agent);
  auto start = std::chrono::steady_clock::now();
  const std::uint64_t first = agent.lastSequence(to, MessagePriority::Normal) + 1;
  std::optional<std::shared_future<void>> lastDurable;
  for (std::uint64_t n = first; n <= count; ++n) {
    IFMessage m;
    m.payload = base;
    m.payload["n"] = n;
    lastDurable = agent.sendAsync(to, std::move(m)).durable;
  }
  if (lastDurable) lastDurable->get();  // commits are in order: all of them are durable
  auto deadline = start + std::chrono::milliseconds(timeoutMs);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto e = failures.first()) throw std::runtime_error("not delivered to " + to + ": " + *e);
    if (agent.unacknowledged(to) == 0) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - start)
                    .count();
      std::cout << "delivered " << count << " to " << to << " (" << (first - 1)
                << " accepted by an earlier run) in " << ms << " ms" << std::endl;
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  throw std::runtime_error("no acknowledgement from " + to + " within " +
                           std::to_string(timeoutMs) + " ms");
}

}  // namespace

void addAgentCommands(CLI::App& app, int& exitCode) {
  auto args = std::make_shared<AgentArgs>();
  CLI::App* agent = app.add_subcommand("agent", "Run one agent");
  addCommon(agent, *args);
  agent->add_option("--connect", args->connect, "Topology: all | k=N | hub=ID");
  addLogOptions(agent, args->log);
  agent->add_flag("--echo", args->echo, "Answer every message with an echo");
  agent->add_flag("--verbose", args->verbose, "Print every message in full");
  agent->add_option("--record", args->recordFile,
                    "Append {source, seq, id, priority, incarnation} of every received message to "
                    "this JSON-lines file (flushed per line) instead of printing it; with "
                    "--state-dir, exactly once across restarts");
  agent->footer(
      "Example:\n  ifmesh agent --id bob --signal ws://127.0.0.1:8443 --connect all --echo\n"
      "Prints 'agent ID registered', then a line per peer state change and per message.");
  agent->callback(
      [args, &exitCode] { exitCode = reportingErrors([&] { return runAgent(*args); }); });

  auto sendArgs = std::make_shared<AgentArgs>();
  auto to = std::make_shared<std::string>();
  auto payload = std::make_shared<std::string>("{}");
  auto timeout = std::make_shared<int>(10000);
  auto expectReply = std::make_shared<bool>(false);
  auto count = std::make_shared<std::uint64_t>(0);
  CLI::App* send = app.add_subcommand(
      "send", "Send one IFMessage and wait until it is delivered (or, --expect-reply, answered)");
  addCommon(send, *sendArgs);
  send->add_option("--to", *to, "Destination agent")->required();
  send->add_option("--payload", *payload, "JSON payload");
  send->add_option("--timeout-ms", *timeout, "How long to wait for delivery (or the reply)")
      ->check(CLI::Range(1, 3600000));
  send->add_flag("--expect-reply", *expectReply,
                 "Wait for a message back from --to and print it (for an --echo agent)");
  send->add_option("--count", *count,
                   "Send N messages (payload field n = 1..N) and wait until all are delivered; "
                   "with --state-dir a killed run resumes where it stopped")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100000000}))
      ->excludes("--expect-reply");
  send->footer(
      "Example:\n  ifmesh send --id cli --to bob --signal ws://127.0.0.1:8443 --payload "
      "'{\"q\":\"hello\"}'\n"
      "Prints 'delivered to bob seq=1 in N ms' once bob acknowledged the message (bob\n"
      "acknowledges within 5 s, sooner when it sends something back). Exit 1 when it is not\n"
      "delivered (server refusal such as unknown_peer, unreachable peer, timeout).");
  send->callback([sendArgs, to, payload, timeout, expectReply, count, &exitCode] {
    exitCode = reportingErrors([&] {
      if (*count > 0) return runSendCount(*sendArgs, *to, *payload, *timeout, *count);
      return runSend(*sendArgs, *to, *payload, *timeout, *expectReply);
    });
  });
}

}  // namespace ifmesh::cli
