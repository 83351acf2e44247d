// The signaling client. Every Client of the process runs on one shared io_context thread
// (clientIo()); public methods post onto it, so a client's state is touched by that thread only.
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>

#include <openssl/ssl.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "ifmesh/error.hpp"
#include "ifmesh/signaling.hpp"
#include "rtc/callback_slot.hpp"
#include "rtc/log.hpp"
#include "signaling/protocol_rules.hpp"
#include "signaling/signaling_url.hpp"
#include "signaling/tls.hpp"
#include "signaling/ws_conn.hpp"

namespace ifmesh::signaling {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

namespace {

// The process-wide client I/O thread, started on first use and kept for the process lifetime.
asio::io_context& clientIo() {
  struct Io {
    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    std::thread thread{[this] { io.run(); }};
    ~Io() {
      work.reset();
      io.stop();
      thread.join();
    }
  };
  // OpenSSL's atexit cleanup must run after this thread is joined (registered before it), or the
  // thread's OpenSSL state (wss:// clients) is never freed.
  [[maybe_unused]] static const int sslReady = OPENSSL_init_ssl(0, nullptr);
  static Io instance;
  return instance.io;
}

}  // namespace

struct detail::ClientImpl : std::enable_shared_from_this<detail::ClientImpl> {
  ClientConfig config;
  SignalingUrl url;
  asio::strand<asio::io_context::executor_type> strand{clientIo().get_executor()};
  std::shared_ptr<asio::ssl::context> tls;  // wss:// only
  std::shared_ptr<WsConn> conn;             // the current connection attempt, if any
  tcp::resolver resolver{strand};
  asio::steady_timer retryTimer{strand};
  beast::flat_buffer buffer;
  std::deque<std::string> writes;
  std::deque<std::string> pending;  // relays waiting for registration
  std::set<std::string> directory;
  std::atomic<bool> registered{false};
  bool closed = false;
  std::chrono::milliseconds backoff{0};
  mutable std::mutex directoryMutex;

  rtc::CallbackSlot<const std::string&, const std::string&> onPublicKey;
  rtc::CallbackSlot<const std::vector<std::string>&> onRegistered;
  rtc::CallbackSlot<const std::string&> onAgentJoined, onAgentLeft;
  rtc::CallbackSlot<const std::string&, const std::string&, const json&> onRelay;
  rtc::CallbackSlot<const std::string&, const std::string&> onError;
  rtc::CallbackSlot<> onDisconnected;

  // Each step checks that `c` is still the current connection: a closed one's handlers are stale.
  void open() {
    if (closed) return;
    auto c = conn = makeWsConn(tcp::socket(strand), tls);
    resolver.async_resolve(
        url.host, url.port,
        [self = shared_from_this(), c](beast::error_code ec, tcp::resolver::results_type r) {
          if (c != self->conn) return;
          if (ec) return self->unreachable("cannot resolve " + self->url.host, ec);
          c->tcp().expires_after(std::chrono::seconds(10));
          c->tcp().async_connect(r, [self, c](beast::error_code ec, auto) {
            if (c != self->conn) return;
            if (ec)
              return self->unreachable("cannot connect to " + self->url.host + ":" + self->url.port,
                                       ec);
            c->tcp().expires_never();
            self->secure(c);
          });
        });
  }

  void secure(const std::shared_ptr<WsConn>& c) {
    if (!c->ssl()) return upgrade(c);
    if (!prepareClientTls(c->ssl(), url.host, config.tlsVerifyPeer)) {
      onError("tls_error", "cannot set up TLS for host " + url.host);
      return retry();
    }
    c->asyncTlsHandshake(
        false, std::chrono::seconds(10), [self = shared_from_this(), c](beast::error_code ec) {
          if (c != self->conn) return;
          if (ec && !self->closed)
            self->onError("tls_error", "TLS handshake with " + self->url.host + ":" +
                                           self->url.port +
                                           " failed: " + describeTlsFailure(c->ssl(), ec));
          if (ec) return self->retry();
          self->upgrade(c);
        });
  }

  void upgrade(const std::shared_ptr<WsConn>& c) {
    c->configure(std::chrono::seconds(30), 4 * 1024 * 1024);
    c->asyncHandshake(
        url.host + ":" + url.port, url.path, [self = shared_from_this(), c](beast::error_code ec) {
          if (c != self->conn) return;
          if (ec) return self->unreachable("no WebSocket handshake with " + self->url.host, ec);
          // Pings after 7.5 s of silence; none answered within 15 s: reconnect.
          c->startHeartbeat(std::chrono::milliseconds(15000), std::chrono::milliseconds(15000));
          json reg = {{"type", "register"}, {"agent_id", self->config.agentId}};
          if (!self->config.token.empty()) reg["token"] = self->config.token;
          if (!self->config.publicKey.empty()) reg["public_key"] = self->config.publicKey;
          self->write(reg.dump());
          self->read();
        });
  }

  // The server could not be reached (or did not speak WebSocket): said, then retried.
  void unreachable(const std::string& what, const beast::error_code& ec) {
    if (!closed) onError("unreachable", what + ": " + ec.message());
    retry();
  }

  void retry() {
    bool wasRegistered = registered.exchange(false);
    if (conn) conn->close();  // first, so no pending write still reads `writes`
    conn.reset();
    writes.clear();
    buffer.consume(buffer.size());
    if (wasRegistered) onDisconnected();
    if (closed || !config.autoReconnect) return;
    backoff =
        backoff.count() == 0 ? config.reconnectInitial : std::min(backoff * 2, config.reconnectMax);
    retryTimer.expires_after(backoff);
    retryTimer.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->open();
    });
  }

  void write(std::string text) {
    writes.push_back(std::move(text));
    if (writes.size() == 1) writeNext();
  }

  void writeNext() {
    if (!conn) return;
    conn->asyncWrite(writes.front(),
                     [self = shared_from_this(), c = conn](beast::error_code ec, std::size_t) {
                       if (c != self->conn) return;  // a connection we already gave up
                       if (ec) return;               // the read side notices and reconnects
                       self->writes.pop_front();
                       if (!self->writes.empty()) self->writeNext();
                     });
  }

  void read() {
    conn->asyncRead(buffer,
                    [self = shared_from_this(), c = conn](beast::error_code ec, std::size_t) {
                      if (c != self->conn) return;
                      if (ec) return self->retry();
                      const std::string text = beast::buffers_to_string(self->buffer.data());
                      self->buffer.consume(self->buffer.size());
                      json message;
                      if (::ifmesh::detail::jsonNestingDepth(text, detail::kMaxMessageDepth) <=
                          detail::kMaxMessageDepth)
                        message = json::parse(text, nullptr, false);
                      if (message.is_object())
                        self->handle(message);
                      else
                        ::ifmesh::detail::log(LogLevel::Warning, "signaling",
                                              "ignored a message from " + self->url.host +
                                                  " that is not a JSON object (" +
                                                  std::to_string(text.size()) + " bytes)");
                      if (self->conn) self->read();
                    });
  }

  static std::string stringField(const json& m, const char* key) {
    auto it = m.find(key);
    return it != m.end() && it->is_string() ? it->get<std::string>() : std::string();
  }

  // What came from the server is told apart from what a peer sent through it by "from", which
  // the server sets on every relayed message. Ids of any form but the agent id grammar are
  // dropped, so none reaches a callback, a log or a terminal.
  void handle(const json& m) {
    auto type = stringField(m, "type");
    if (!detail::isValidMessageType(type)) return;
    if (auto from = m.find("from"); from != m.end()) {
      if (from->is_string() && isValidAgentId(from->get<std::string>()) &&
          !detail::isServerMessageType(type))
        onRelay(from->get<std::string>(), type, m);
      return;
    }
    auto agent = stringField(m, "agent_id");
    if ((type == "agent-joined" || type == "agent-left") && !isValidAgentId(agent)) return;
    if (type == "registered") {
      std::vector<std::string> agents;
      {
        std::lock_guard lock(directoryMutex);
        directory.clear();
        auto listed = m.find("connected_agents");
        for (const auto& a : listed != m.end() && listed->is_array() ? *listed : json::array())
          if (a.is_string() && a != config.agentId && isValidAgentId(a.get<std::string>()))
            directory.insert(a.get<std::string>());
        agents.assign(directory.begin(), directory.end());
      }
      if (auto keys = m.find("public_keys"); keys != m.end() && keys->is_object())
        for (auto it = keys->begin(); it != keys->end(); ++it)
          if (it->is_string() && isValidAgentId(it.key()))
            onPublicKey(it.key(), it->get<std::string>());
      registered = true;
      backoff = std::chrono::milliseconds(0);
      while (!pending.empty()) {
        write(std::move(pending.front()));
        pending.pop_front();
      }
      onRegistered(agents);
    } else if (type == "agent-joined") {
      {
        std::lock_guard lock(directoryMutex);
        directory.insert(agent);
      }
      if (auto key = m.find("public_key"); key != m.end() && key->is_string())
        onPublicKey(agent, key->get<std::string>());
      onAgentJoined(agent);
    } else if (type == "agent-left") {
      {
        std::lock_guard lock(directoryMutex);
        directory.erase(agent);
      }
      onAgentLeft(agent);
    } else if (type == "error") {
      onError(stringField(m, "code"), stringField(m, "message"));
    }
  }
};

Client::Client(ClientConfig config) : impl_(std::make_shared<detail::ClientImpl>()) {
  impl_->url = parseSignalingUrl(config.url);
  if (impl_->url.tls) impl_->tls = makeClientTls(config.tlsCaFile, config.tlsVerifyPeer);
  impl_->config = std::move(config);
}

Client::~Client() {
  close();
}

void Client::connect() {
  asio::post(impl_->strand, [impl = impl_] {
    impl->closed = false;
    if (!impl->conn) impl->open();
  });
}

void Client::close() {
  std::promise<void> done;
  asio::post(impl_->strand, [impl = impl_, &done] {
    impl->closed = true;
    impl->retryTimer.cancel();
    impl->resolver.cancel();
    if (impl->conn) impl->conn->close();
    impl->registered = false;
    done.set_value();
  });
  done.get_future().wait();
}

bool Client::isRegistered() const {
  return impl_->registered;
}

bool Client::waitRegistered(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!impl_->registered) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

std::vector<std::string> Client::agents() const {
  std::lock_guard lock(impl_->directoryMutex);
  return {impl_->directory.begin(), impl_->directory.end()};
}

void Client::send(const std::string& to, const std::string& type, nlohmann::json body) {
  if (!body.is_object()) body = json::object();
  body["type"] = type;
  body["to"] = to;
  asio::post(impl_->strand, [impl = impl_, text = body.dump()]() mutable {
    if (impl->registered && impl->conn)
      impl->write(std::move(text));
    else
      impl->pending.push_back(std::move(text));
  });
}

void Client::onPublicKey(std::function<void(const std::string&, const std::string&)> cb) {
  impl_->onPublicKey.set(std::move(cb));
}
void Client::onRegistered(std::function<void(const std::vector<std::string>&)> cb) {
  impl_->onRegistered.set(std::move(cb));
}
void Client::onAgentJoined(std::function<void(const std::string&)> cb) {
  impl_->onAgentJoined.set(std::move(cb));
}
void Client::onAgentLeft(std::function<void(const std::string&)> cb) {
  impl_->onAgentLeft.set(std::move(cb));
}
void Client::onRelay(std::function<void(const std::string&, const std::string&, const json&)> cb) {
  impl_->onRelay.set(std::move(cb));
}
void Client::onError(std::function<void(const std::string&, const std::string&)> cb) {
  impl_->onError.set(std::move(cb));
}
void Client::onDisconnected(std::function<void()> cb) {
  impl_->onDisconnected.set(std::move(cb));
}

}  // namespace ifmesh::signaling
