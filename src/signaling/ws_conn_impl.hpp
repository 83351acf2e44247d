#pragma once
// The WsConn implementation over one stream type (plain TCP or TLS). Included by exactly one .cpp
// per stream type: Beast's WebSocket over TLS is a heavy instantiation (GBs of compiler memory
// with debug info), so each lives in its own translation unit and they build in parallel.
#include <boost/asio/post.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>

#include <utility>

#include "signaling/ws_conn.hpp"

namespace ifmesh::signaling::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

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

}  // namespace ifmesh::signaling::detail
