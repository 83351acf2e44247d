#pragma once
// Signaling: a WebSocket server (directory + relay of offer/answer/candidates) and its client.
// Protocol: docs/signaling-protocol.md. Optional TLS (wss://): ServerConfig::tlsCertFile/tlsKeyFile
// and wss:// client URLs.
//
// Threads: a Server runs on one io_context thread of its own. All Clients of a process share one
// process-wide io_context thread (100 agents do not make 100 threads); client callbacks run on it
// and must not block.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ifmesh/export.hpp"

namespace ifmesh::signaling {

namespace detail {
struct ServerImpl;
struct ClientImpl;
}  // namespace detail

// The longest a token may still be valid for when it is presented: a token that expires later
// (a forever token, 2^62 s) is refused like an expired one.
constexpr std::chrono::seconds kMaxTokenLifetime{std::chrono::hours(24 * 30)};

struct ServerConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8443;  // 0: any free port (see Server::port)
  std::string sharedSecret;   // non-empty: registration needs a token from makeAuthToken
  std::chrono::seconds maxTokenLifetime = kMaxTokenLifetime;  // tokens valid longer are refused
  std::size_t maxFrameBytes = 64 * 1024;
  std::size_t maxMessagesPerSecond = 1000;
  // Bounds against clients that never read, flood, or squat (docs/security.md). A connection
  // over its limits is closed; a registration over maxAgents is refused with "server_full".
  std::size_t maxConnections = 4096;                  // open WebSocket connections in all
  std::size_t maxConnectionsPerAddress = 1024;        // from one remote IP address
  std::size_t maxAgents = 4096;                       // registered agents
  std::size_t maxQueuedBytesPerConnection = 2 << 20;  // written to a client, not yet sent
  std::size_t maxQueuedBytesTotal = 256 << 20;        // the same over all connections
  std::chrono::milliseconds pingInterval{5000};       // a silent client leaves after 2 intervals
  // Both set: the port speaks wss:// only (PEM certificate chain and private key files).
  std::string tlsCertFile, tlsKeyFile;
  // What happens, for a log (called on the server's I/O thread; keep it short): "registered"
  // {agent, address, public_key: bool}, "left" {agent}, "refused" {code, message, address,
  // agent?} (the first refusal of each code per connection), "closed" {address, agent?, reason}
  // for a client closed over a limit, "connection_refused" {address, reason} (at most one a
  // second).
  std::function<void(const std::string& event, const nlohmann::json& fields)> onEvent;
};

class IFMESH_API Server {
 public:
  explicit Server(ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  // Throws Error(Io) when it cannot bind, Error(Io) or Error(Tls) for an unusable TLS
  // certificate or key.
  void start();
  void stop();
  std::uint16_t port() const;
  std::size_t agentCount() const;

 private:
  std::shared_ptr<detail::ServerImpl> impl_;
};

// An agent id is 1 to 128 characters of A-Z a-z 0-9 . _ : @ - (so it is safe in a log line, a
// terminal, a file name or a URL). The server refuses to register any other id, and a client
// drops ids of any other form that reach it.
constexpr std::size_t kMaxAgentIdLength = 128;
IFMESH_API bool isValidAgentId(std::string_view id);

// "<agentId>.<expiryUnix>.<hex HMAC-SHA256(secret, agentId + '.' + expiryUnix)>"
IFMESH_API std::string makeAuthToken(const std::string& secret, const std::string& agentId,
                                     std::chrono::system_clock::time_point expiry);
IFMESH_API bool verifyAuthToken(const std::string& secret, const std::string& agentId,
                                const std::string& token,
                                std::chrono::seconds maxLifetime = kMaxTokenLifetime);

struct ClientConfig {
  std::string url;  // ws://127.0.0.1:8443 or wss://host:port
  std::string agentId;
  std::string token;
  std::string publicKey;  // announced at registration when non-empty (base64 Ed25519)
  // wss:// only. The server's certificate must chain to tlsCaFile (PEM; a self-signed certificate
  // works), or to the system's CAs when empty, and name the URL's host or IP address. A failed
  // TLS handshake is reported through onError("tls_error", ...) and retried like any connect.
  std::string tlsCaFile;
  bool tlsVerifyPeer = true;  // false: accept any certificate (testing only)
  bool autoReconnect = true;
  std::chrono::milliseconds reconnectInitial{100};
  std::chrono::milliseconds reconnectMax{5000};
};

class IFMESH_API Client {
 public:
  // Throws Error(InvalidArgument) for a bad URL, Error(Io) or Error(Tls) for an unusable
  // tlsCaFile.
  explicit Client(ClientConfig config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void connect();  // returns at once; (re)connects and registers in the background
  void close();
  bool isRegistered() const;
  bool waitRegistered(std::chrono::milliseconds timeout) const;
  std::vector<std::string> agents() const;  // the directory, without ourselves
  // Relays {"type": type, "to": to, ...body}; queued until registered. Thread-safe.
  void send(const std::string& to, const std::string& type, nlohmann::json body);

  // Called for every announced public key (directory entries and joining agents), before the
  // onRegistered / onAgentJoined that mentions the agent.
  void onPublicKey(std::function<void(const std::string& agentId, const std::string& key)> cb);
  void onRegistered(std::function<void(const std::vector<std::string>&)> cb);
  void onAgentJoined(std::function<void(const std::string&)> cb);
  void onAgentLeft(std::function<void(const std::string&)> cb);
  void onRelay(std::function<void(const std::string& from, const std::string& type,
                                  const nlohmann::json& message)>
                   cb);
  // An error message from the server (its code and text), or "unreachable" when a connection
  // attempt fails before the WebSocket is up (each attempt; retries go on with backoff).
  void onError(std::function<void(const std::string& code, const std::string& message)> cb);
  void onDisconnected(std::function<void()> cb);

 private:
  std::shared_ptr<detail::ClientImpl> impl_;
};

}  // namespace ifmesh::signaling
