// WsConn over plain TCP and over TLS: one template, the TLS parts behind `if constexpr`.
#include "signaling/ws_conn.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>

#include <utility>

namespace ifmesh::signaling {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

template <class Next>
class BasicWsConn final : public WsConn {
  static constexpr bool kTls = std::is_same_v<Next, TlsStream>;

 public:
  template <class... Args>
  BasicWsConn(const asio::any_io_executor& executor, std::shared_ptr<asio::ssl::context> tls,
              Args&&... args)
      : WsConn(executor), tls_(std::move(tls)), ws_(std::forward<Args>(args)...) {}

  beast::tcp_stream& tcp() override { return beast::get_lowest_layer(ws_); }

  SSL* ssl() override {
    if constexpr (kTls)
      return ws_.next_layer().native_handle();
    else
      return nullptr;
  }

  void asyncTlsHandshake(bool server, std::chrono::seconds timeout, Handler h) override {
    if constexpr (kTls) {
      tcp().expires_after(timeout);
      ws_.next_layer().async_handshake(
          server ? asio::ssl::stream_base::server : asio::ssl::stream_base::client,
          [self = shared_from_this(), this, h = std::move(h)](beast::error_code ec) {
            tcp().expires_never();
            h(ec);
          });
    } else {
      (void)server;
      (void)timeout;
      asio::post(ws_.get_executor(), [self = shared_from_this(), h = std::move(h)] { h({}); });
    }
  }

  void configure(std::chrono::seconds handshakeTimeout, std::size_t maxMessage) override {
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = handshakeTimeout;
    timeout.idle_timeout = websocket::stream_base::none();
    timeout.keep_alive_pings = false;  // see the lifetime note in ws_conn.hpp
    ws_.set_option(timeout);
    ws_.read_message_max(maxMessage);
    ws_.control_callback([this](websocket::frame_type, beast::string_view) { heard(); });
  }

  void asyncAccept(Handler h) override {
    ws_.async_accept([self = shared_from_this(), this, h = std::move(h)](beast::error_code ec) {
      if (!ec) heard();
      h(ec);
    });
  }

  void asyncHandshake(const std::string& host, const std::string& path, Handler h) override {
    ws_.async_handshake(host, path,
                        [self = shared_from_this(), this, h = std::move(h)](beast::error_code ec) {
                          if (!ec) heard();
                          h(ec);
                        });
  }

  void asyncRead(beast::flat_buffer& buffer, IoHandler h) override {
    ws_.async_read(buffer, [self = shared_from_this(), this, h = std::move(h)](beast::error_code ec,
                                                                               std::size_t n) {
      if (!ec) heard();
      h(ec, n);
    });
  }

  void asyncWrite(std::string_view text, IoHandler h) override {
    ws_.text(true);
    ws_.async_write(asio::buffer(text.data(), text.size()),
                    [self = shared_from_this(), h = std::move(h)](beast::error_code ec,
                                                                  std::size_t n) { h(ec, n); });
  }

  bool gotText() const override { return ws_.got_text(); }

 protected:
  void asyncPing(Handler h) override {
    ws_.async_ping({},
                   [self = shared_from_this(), h = std::move(h)](beast::error_code ec) { h(ec); });
  }

 private:
  std::shared_ptr<asio::ssl::context> tls_;  // outlives the stream's SSL object
  websocket::stream<Next> ws_;
};

}  // namespace

void WsConn::startHeartbeat(std::chrono::milliseconds interval,
                            std::chrono::milliseconds deadAfter) {
  if (interval.count() <= 0) return;
  interval_ = interval;
  deadAfter_ = deadAfter;
  heard();
  beat();
}

void WsConn::beat() {
  heartbeat_.expires_after(interval_ / 2);
  // A weak pointer: a pending heartbeat must not keep a finished connection alive.
  heartbeat_.async_wait([weak = weak_from_this()](beast::error_code ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    auto silent = std::chrono::steady_clock::now() - self->lastHeard_;
    if (silent >= self->deadAfter_) return self->close();
    if (silent >= self->interval_ / 2 && !self->pinging_) {
      self->pinging_ = true;  // Beast holds one pending ping per stream
      self->asyncPing([self](beast::error_code) { self->pinging_ = false; });
    }
    self->beat();
  });
}

void WsConn::close() {
  heartbeat_.cancel();
  tcp().close();
}

std::shared_ptr<WsConn> makeWsConn(asio::ip::tcp::socket socket,
                                   std::shared_ptr<asio::ssl::context> tls) {
  auto executor = socket.get_executor();
  if (!tls)
    return std::make_shared<BasicWsConn<beast::tcp_stream>>(executor, nullptr, std::move(socket));
  auto& context = *tls;
  return std::make_shared<BasicWsConn<TlsStream>>(executor, std::move(tls), std::move(socket),
                                                  context);
}

}  // namespace ifmesh::signaling
