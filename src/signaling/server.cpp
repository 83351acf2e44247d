// The signaling server: one io_context thread; sessions, directory and relay all live on it, so
// the registry needs no lock (only agentCount() reads it from outside, via a counter). With a
// certificate and key it speaks wss:// only: a client that does not start TLS is dropped.
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "ifmesh/error.hpp"
#include "ifmesh/identity.hpp"
#include "ifmesh/signaling.hpp"
#include "signaling/protocol_rules.hpp"
#include "signaling/tls.hpp"
#include "signaling/ws_conn.hpp"

namespace ifmesh::signaling {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

namespace {
json errorMessage(const std::string& code, const std::string& message) {
  return {{"type", "error"}, {"code", code}, {"message", message}};
}
}  // namespace

class Session;

struct detail::ServerImpl : std::enable_shared_from_this<detail::ServerImpl> {
  ServerConfig config;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor{io};
  asio::steady_timer acceptRetry{io};
  std::chrono::milliseconds acceptBackoff{0};
  std::shared_ptr<asio::ssl::context> tls;  // null: plain ws://
  std::thread thread;
  std::map<std::string, std::shared_ptr<Session>> agents;  // io thread only
  std::vector<std::weak_ptr<Session>> sessions;            // io thread only
  std::atomic<std::size_t> agentCount{0};
  std::map<asio::ip::address, std::size_t> connectionsPerAddress;  // io thread only
  std::size_t connections = 0;                                     // io thread only
  std::size_t queuedBytes = 0;  // io thread only: queued to every client, not yet written
  std::atomic<std::uint16_t> port{0};

  void accept();
  void connectionRefused(const asio::ip::address& remote, const char* reason);
  std::chrono::steady_clock::time_point lastRefusalReport{};
  void join(const std::string& id, const std::shared_ptr<Session>& s);
  void leave(const std::string& id, const Session* s);
  void broadcast(const json& message, const std::string& except);
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, asio::ip::address remote, std::shared_ptr<detail::ServerImpl> server)
      : conn_(makeWsConn(std::move(socket), server->tls)),
        server_(std::move(server)),
        remote_(remote) {
    ++server_->connections;
    ++server_->connectionsPerAddress[remote_];
  }

  ~Session() {
    server_->queuedBytes -= queuedBytes_;
    --server_->connections;
    auto it = server_->connectionsPerAddress.find(remote_);
    if (--it->second == 0) server_->connectionsPerAddress.erase(it);
  }

  const std::string& publicKey() const { return publicKey_; }  // empty when none was announced

  void start() {
    // A failed TLS handshake (e.g. a plain ws:// client) just drops this connection.
    conn_->asyncTlsHandshake(true, kHandshakeTimeout,
                             [self = shared_from_this()](beast::error_code ec) {
                               if (ec) return self->close();
                               self->accept();
                             });
  }

  // A client that does not read what it is sent fills its queue: past its own limit, or the
  // server's limit over all clients, it is closed rather than holding the server's memory.
  void send(const json& message) {
    if (gone_ || overflowed_) return;
    // The parser only takes valid UTF-8, so nothing is replaced; a throw here would end the server.
    std::string text = message.dump(-1, ' ', false, json::error_handler_t::replace);
    const auto& config = server_->config;
    if (queuedBytes_ + text.size() > config.maxQueuedBytesPerConnection ||
        server_->queuedBytes + text.size() > config.maxQueuedBytesTotal) {
      // Closed from the next handler: this send may run inside a broadcast over the directory
      // that leaving would change.
      overflowed_ = true;
      closedOverLimit("does not read what it is sent (write queue over its limit)");
      asio::post(server_->io, [self = shared_from_this()] { self->gone(); });
      return;
    }
    queuedBytes_ += text.size();
    server_->queuedBytes += text.size();
    queue_.push_back(std::move(text));
    if (queue_.size() == 1) write();
  }

  void close() { conn_->close(); }

  const std::string& id() const { return id_; }

  json describe() const {
    json fields = {{"address", remote_.to_string()}};
    if (!id_.empty()) fields["agent"] = id_;
    return fields;
  }

 private:
  static constexpr std::chrono::seconds kHandshakeTimeout{10};

  void accept() {
    conn_->configure(kHandshakeTimeout, server_->config.maxFrameBytes);
    conn_->asyncAccept([self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->close();
      // Pings after half an interval of silence; no answer within two intervals: closed.
      auto interval = self->server_->config.pingInterval;
      self->conn_->startHeartbeat(interval, 2 * interval);
      self->read();
    });
  }

  void read() {
    conn_->asyncRead(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      // A frame over maxFrameBytes (websocket::error::message_too_big) is answered by the
      // WebSocket layer itself: it fails the connection with close code 1009 before any JSON
      // error could be written, so it ends up here like any other broken connection.
      if (ec) return self->gone();
      self->handle();
      self->buffer_.consume(self->buffer_.size());
      self->read();
    });
  }

  void write() {
    conn_->asyncWrite(queue_.front(),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->gone();
                        self->queuedBytes_ -= self->queue_.front().size();
                        self->server_->queuedBytes -= self->queue_.front().size();
                        self->queue_.pop_front();
                        if (!self->queue_.empty()) self->write();
                      });
  }

  bool rateLimited() {
    auto now = std::chrono::steady_clock::now();
    if (now - windowStart_ > std::chrono::seconds(1)) {
      windowStart_ = now;
      windowCount_ = 0;
    }
    return ++windowCount_ > server_->config.maxMessagesPerSecond;
  }

  void handle() {
    if (rateLimited()) {
      if (windowCount_ == server_->config.maxMessagesPerSecond + 1)
        refuse("rate_limited", "too many messages per second; dropping");
      return;
    }
    if (!conn_->gotText()) return refuse("bad_message", "binary frames are not accepted");
    detail::ClientFrame frame = detail::judgeClientFrame(beast::buffers_to_string(buffer_.data()));
    if (!frame.accepted()) return refuse(frame.errorCode, frame.errorText);
    if (frame.type == "register") return registerAgent(frame.message);
    if (id_.empty()) return refuse("not_registered", "register first");
    auto target = server_->agents.find(frame.to);
    if (target == server_->agents.end())
      return refuse("unknown_peer", "no agent '" + frame.to + "'");
    frame.message["from"] = id_;  // never trust the sender's claim
    target->second->send(frame.message);
  }

  void registerAgent(const json& message) {
    if (!id_.empty()) return refuse("bad_message", "already registered as " + id_);
    auto idIt = message.find("agent_id");
    if (idIt == message.end() || !idIt->is_string() || !isValidAgentId(idIt->get<std::string>()))
      return refuse("bad_agent_id", "register needs an 'agent_id' of 1 to " +
                                        std::to_string(kMaxAgentIdLength) +
                                        " characters from A-Z a-z 0-9 . _ : @ -");
    std::string id = *idIt;
    if (!server_->config.sharedSecret.empty()) {
      auto token = message.find("token");
      if (token == message.end() || !token->is_string() ||
          !verifyAuthToken(server_->config.sharedSecret, id, *token,
                           server_->config.maxTokenLifetime))
        return refuse("unauthorized", "missing, expired or invalid token for " + id);
    }
    // Optional (browsers register without one); when given it must be a usable Ed25519 key, so
    // nobody is handed a key that can never verify anything.
    std::string publicKey;
    if (auto key = message.find("public_key"); key != message.end()) {
      if (!key->is_string() || !PublicKey::parse(key->get<std::string>()))
        return refuse("bad_public_key",
                      "'public_key' must be the base64 of a raw 32-byte Ed25519 key");
      publicKey = key->get<std::string>();
    }
    if (server_->agents.count(id))
      return refuse("duplicate_id", "agent id '" + id + "' is already registered");
    if (server_->agents.size() >= server_->config.maxAgents)
      return refuse("server_full", "the server holds its maximum of " +
                                       std::to_string(server_->config.maxAgents) + " agents");
    id_ = id;
    publicKey_ = publicKey;
    json directory = json::array();
    json keys = json::object();
    for (const auto& [other, s] : server_->agents) {
      directory.push_back(other);
      if (!s->publicKey().empty()) keys[other] = s->publicKey();
    }
    server_->join(id_, shared_from_this());
    send({{"type", "registered"},
          {"agent_id", id_},
          {"connected_agents", directory},
          {"public_keys", keys}});
  }

  // Answers with an error message, and reports the first refusal of each code on this connection
  // (a client repeating its mistake must not flood the log).
  void refuse(const std::string& code, const std::string& message) {
    if (server_->config.onEvent && refusalsReported_.insert(code).second) {
      json fields = describe();
      fields["code"] = code;
      fields["message"] = message;
      server_->config.onEvent("refused", fields);
    }
    send(errorMessage(code, message));
  }

  void closedOverLimit(const std::string& reason) {
    if (!server_->config.onEvent) return;
    json fields = describe();
    fields["reason"] = reason;
    server_->config.onEvent("closed", fields);
  }

  void gone() {
    if (gone_) return;
    gone_ = true;
    close();  // also stops the heartbeat
    if (!id_.empty()) server_->leave(id_, this);
  }

  std::shared_ptr<WsConn> conn_;
  std::shared_ptr<detail::ServerImpl> server_;
  beast::flat_buffer buffer_;
  asio::ip::address remote_;
  std::deque<std::string> queue_;
  std::size_t queuedBytes_ = 0;
  std::string id_;
  std::string publicKey_;  // base64 Ed25519, empty when the agent announced none
  bool gone_ = false;
  bool overflowed_ = false;
  std::set<std::string> refusalsReported_;
  std::chrono::steady_clock::time_point windowStart_ = std::chrono::steady_clock::now();
  std::size_t windowCount_ = 0;
};

void detail::ServerImpl::accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (!self->acceptor.is_open()) return;  // stopped
    if (ec) {
      // Out of descriptors (EMFILE, ENFILE) or memory, or a connection reset before it was
      // accepted: the listening socket is fine, so accept again after a pause that doubles up to
      // a second while the errors last, instead of leaving the port deaf for good.
      self->acceptBackoff = std::clamp(self->acceptBackoff * 2, std::chrono::milliseconds(10),
                                       std::chrono::milliseconds(1000));
      self->acceptRetry.expires_after(self->acceptBackoff);
      self->acceptRetry.async_wait([self](beast::error_code wait) {
        if (!wait) self->accept();
      });
      return;
    }
    self->acceptBackoff = std::chrono::milliseconds(0);
    beast::error_code peerError;
    const auto remote = socket.remote_endpoint(peerError).address();
    auto perAddress = self->connectionsPerAddress.find(remote);
    if (peerError || self->connections >= self->config.maxConnections ||
        (perAddress != self->connectionsPerAddress.end() &&
         perAddress->second >= self->config.maxConnectionsPerAddress)) {
      socket.close(peerError);  // over a limit: refused before any handshake
      self->connectionRefused(remote, peerError ? "no remote address"
                                      : self->connections >= self->config.maxConnections
                                          ? "maxConnections reached"
                                          : "maxConnectionsPerAddress reached");
      return self->accept();
    }
    auto session = std::make_shared<Session>(std::move(socket), remote, self);
    std::erase_if(self->sessions, [](const std::weak_ptr<Session>& w) { return w.expired(); });
    self->sessions.push_back(session);
    session->start();
    self->accept();
  });
}

void detail::ServerImpl::connectionRefused(const asio::ip::address& remote, const char* reason) {
  auto now = std::chrono::steady_clock::now();
  if (!config.onEvent || now - lastRefusalReport < std::chrono::seconds(1)) return;
  lastRefusalReport = now;
  config.onEvent("connection_refused", {{"address", remote.to_string()}, {"reason", reason}});
}

void detail::ServerImpl::join(const std::string& id, const std::shared_ptr<Session>& s) {
  json joined = {{"type", "agent-joined"}, {"agent_id", id}};
  if (!s->publicKey().empty()) joined["public_key"] = s->publicKey();
  broadcast(joined, id);
  agents[id] = s;
  agentCount = agents.size();
  if (config.onEvent) {
    json fields = s->describe();
    fields["public_key"] = !s->publicKey().empty();
    config.onEvent("registered", fields);
  }
}

void detail::ServerImpl::leave(const std::string& id, const Session* s) {
  auto it = agents.find(id);
  if (it == agents.end() || it->second.get() != s) return;
  agents.erase(it);
  agentCount = agents.size();
  if (config.onEvent) config.onEvent("left", {{"agent", id}});
  broadcast({{"type", "agent-left"}, {"agent_id", id}}, id);
}

void detail::ServerImpl::broadcast(const json& message, const std::string& except) {
  for (auto& [id, s] : agents)
    if (id != except) s->send(message);
}

Server::Server(ServerConfig config) : impl_(std::make_shared<detail::ServerImpl>()) {
  impl_->config = std::move(config);
}

Server::~Server() {
  stop();
}

void Server::start() {
  // Certificate problems are configuration errors: report them before binding.
  if (!impl_->config.tlsCertFile.empty() || !impl_->config.tlsKeyFile.empty())
    impl_->tls = makeServerTls(impl_->config.tlsCertFile, impl_->config.tlsKeyFile);
  tcp::endpoint endpoint(asio::ip::make_address(impl_->config.address), impl_->config.port);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  beast::error_code ec;
  impl_->acceptor.bind(endpoint, ec);
  if (ec)
    throw Error(Errc::Io, "signaling server cannot bind " + impl_->config.address + ":" +
                              std::to_string(impl_->config.port) + ": " + ec.message());
  impl_->acceptor.listen(asio::socket_base::max_listen_connections);
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->work.emplace(impl_->io.get_executor());
  impl_->accept();
  impl_->thread = std::thread([impl = impl_] { impl->io.run(); });
}

void Server::stop() {
  if (!impl_->thread.joinable()) return;
  std::promise<void> done;
  asio::post(impl_->io, [impl = impl_, &done] {
    beast::error_code ec;
    impl->acceptor.close(ec);
    impl->acceptRetry.cancel();
    for (auto& weak : impl->sessions)
      if (auto s = weak.lock()) s->close();
    impl->sessions.clear();
    impl->agents.clear();
    impl->agentCount = 0;
    impl->work.reset();
    done.set_value();
  });
  done.get_future().wait();
  impl_->thread.join();
}

std::uint16_t Server::port() const {
  return impl_->port;
}
std::size_t Server::agentCount() const {
  return impl_->agentCount;
}

}  // namespace ifmesh::signaling
