// The signaling client. Every Client of the process runs on one shared io_context thread
// (clientIo()); public methods post onto it, so a client's state is touched by that thread only.
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "ifmesh/signaling.hpp"
#include "rtc/callback_slot.hpp"

namespace ifmesh::signaling {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
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
  static Io instance;
  return instance.io;
}

struct Url {
  std::string host, port, path;
};

Url parseUrl(const std::string& url) {
  if (url.rfind("ws://", 0) != 0)
    throw std::invalid_argument("signaling URL must be ws://host:port");
  std::string rest = url.substr(5);
  auto slash = rest.find('/');
  Url u;
  u.path = slash == std::string::npos ? "/" : rest.substr(slash);
  rest = rest.substr(0, slash);
  auto colon = rest.rfind(':');
  u.host = colon == std::string::npos ? rest : rest.substr(0, colon);
  u.port = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  if (u.host.size() > 1 && u.host.front() == '[') u.host = u.host.substr(1, u.host.size() - 2);
  return u;
}

}  // namespace

struct Client::Impl : std::enable_shared_from_this<Client::Impl> {
  ClientConfig config;
  Url url;
  asio::strand<asio::io_context::executor_type> strand{clientIo().get_executor()};
  std::unique_ptr<websocket::stream<beast::tcp_stream>> ws;
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

  rtc::CallbackSlot<const std::vector<std::string>&> onRegistered;
  rtc::CallbackSlot<const std::string&> onAgentJoined, onAgentLeft;
  rtc::CallbackSlot<const std::string&, const std::string&, const json&> onRelay;
  rtc::CallbackSlot<const std::string&, const std::string&> onError;
  rtc::CallbackSlot<> onDisconnected;

  void open() {
    if (closed) return;
    ws = std::make_unique<websocket::stream<beast::tcp_stream>>(strand);
    resolver.async_resolve(
        url.host, url.port,
        [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type r) {
          if (ec) return self->retry();
          beast::get_lowest_layer(*self->ws).expires_after(std::chrono::seconds(10));
          beast::get_lowest_layer(*self->ws).async_connect(r, [self](beast::error_code ec, auto) {
            if (ec) return self->retry();
            beast::get_lowest_layer(*self->ws).expires_never();
            websocket::stream_base::timeout timeout =
                websocket::stream_base::timeout::suggested(beast::role_type::client);
            timeout.idle_timeout = std::chrono::seconds(15);
            timeout.keep_alive_pings = true;
            self->ws->set_option(timeout);
            self->ws->read_message_max(4 * 1024 * 1024);
            self->ws->async_handshake(
                self->url.host + ":" + self->url.port, self->url.path,
                [self](beast::error_code ec) {
                  if (ec) return self->retry();
                  json reg = {{"type", "register"}, {"agent_id", self->config.agentId}};
                  if (!self->config.token.empty()) reg["token"] = self->config.token;
                  self->write(reg.dump());
                  self->read();
                });
          });
        });
  }

  void retry() {
    bool wasRegistered = registered.exchange(false);
    writes.clear();
    ws.reset();
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
    if (!ws) return;
    ws->text(true);
    ws->async_write(asio::buffer(writes.front()),
                    [self = shared_from_this(), ws = ws.get()](beast::error_code ec, std::size_t) {
                      if (ws != self->ws.get()) return;  // a connection we already gave up
                      if (ec) return;                    // the read side notices and reconnects
                      self->writes.pop_front();
                      if (!self->writes.empty()) self->writeNext();
                    });
  }

  void read() {
    ws->async_read(
        buffer, [self = shared_from_this(), ws = ws.get()](beast::error_code ec, std::size_t) {
          if (ws != self->ws.get()) return;
          if (ec) return self->retry();
          json message = json::parse(beast::buffers_to_string(self->buffer.data()), nullptr, false);
          self->buffer.consume(self->buffer.size());
          if (message.is_object()) self->handle(message);
          if (self->ws) self->read();
        });
  }

  void handle(const json& m) {
    auto type = m.value("type", std::string());
    auto agent = m.value("agent_id", std::string());
    if (type == "registered") {
      std::vector<std::string> agents;
      {
        std::lock_guard lock(directoryMutex);
        directory.clear();
        for (const auto& a : m.value("connected_agents", json::array()))
          if (a.is_string() && a != config.agentId) directory.insert(a.get<std::string>());
        agents.assign(directory.begin(), directory.end());
      }
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
      onAgentJoined(agent);
    } else if (type == "agent-left") {
      {
        std::lock_guard lock(directoryMutex);
        directory.erase(agent);
      }
      onAgentLeft(agent);
    } else if (type == "error") {
      onError(m.value("code", std::string()), m.value("message", std::string()));
    } else if (m.contains("from") && m["from"].is_string()) {
      onRelay(m["from"].get<std::string>(), type, m);
    }
  }
};

Client::Client(ClientConfig config) : impl_(std::make_shared<Impl>()) {
  impl_->url = parseUrl(config.url);
  impl_->config = std::move(config);
}

Client::~Client() {
  close();
}

void Client::connect() {
  asio::post(impl_->strand, [impl = impl_] {
    impl->closed = false;
    if (!impl->ws) impl->open();
  });
}

void Client::close() {
  std::promise<void> done;
  asio::post(impl_->strand, [impl = impl_, &done] {
    impl->closed = true;
    impl->retryTimer.cancel();
    impl->resolver.cancel();
    if (impl->ws) {
      beast::error_code ec;
      beast::get_lowest_layer(*impl->ws).socket().close(ec);
    }
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
    if (impl->registered && impl->ws)
      impl->write(std::move(text));
    else
      impl->pending.push_back(std::move(text));
  });
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
