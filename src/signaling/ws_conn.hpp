#pragma once
// One WebSocket connection over plain TCP (ws://) or TLS (wss://), shared by the signaling server
// sessions and the client. Every method runs on the connection's executor.
//
// Lifetime: Asio's SSL layer must outlive its pending operations, so every asynchronous operation
// on the stream is started here and its handler holds the connection (shared_from_this). For that
// reason keep-alive pings are ours (startHeartbeat), not Beast's keep_alive_pings, whose internal
// ping could still be in flight when the last owner lets go.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <openssl/ssl.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace ifmesh::signaling {

class WsConn : public std::enable_shared_from_this<WsConn> {
 public:
  using Handler = std::function<void(boost::beast::error_code)>;
  using IoHandler = std::function<void(boost::beast::error_code, std::size_t)>;

  explicit WsConn(const boost::asio::any_io_executor& executor) : heartbeat_(executor) {}
  virtual ~WsConn() = default;
  WsConn(const WsConn&) = delete;
  WsConn& operator=(const WsConn&) = delete;

  virtual boost::beast::tcp_stream& tcp() = 0;
  virtual SSL* ssl() = 0;  // nullptr on plain TCP
  // The TLS handshake, bounded by `timeout`; a no-op that succeeds on plain TCP.
  virtual void asyncTlsHandshake(bool server, std::chrono::seconds timeout, Handler h) = 0;
  // WebSocket options: opening/closing handshake timeout and the largest accepted message.
  virtual void configure(std::chrono::seconds handshakeTimeout, std::size_t maxMessage) = 0;
  virtual void asyncAccept(Handler h) = 0;
  virtual void asyncHandshake(const std::string& host, const std::string& path, Handler h) = 0;
  virtual void asyncRead(boost::beast::flat_buffer& buffer, IoHandler h) = 0;
  // Sends one text frame; `text` must stay valid until `h` runs.
  virtual void asyncWrite(std::string_view text, IoHandler h) = 0;
  virtual bool gotText() const = 0;

  // Pings when nothing was heard for half an `interval`; closes after `deadAfter` of silence.
  void startHeartbeat(std::chrono::milliseconds interval, std::chrono::milliseconds deadAfter);
  // Stops the heartbeat and closes the socket: pending operations complete with an error.
  void close();

 protected:
  void heard() { lastHeard_ = std::chrono::steady_clock::now(); }
  virtual void asyncPing(Handler h) = 0;

 private:
  void beat();

  boost::asio::steady_timer heartbeat_;
  std::chrono::milliseconds interval_{0}, deadAfter_{0};
  std::chrono::steady_clock::time_point lastHeard_ = std::chrono::steady_clock::now();
  bool pinging_ = false;
};

// `tls` null: a ws:// connection; otherwise wss:// with that context (kept alive by the stream).
std::shared_ptr<WsConn> makeWsConn(boost::asio::ip::tcp::socket socket,
                                   std::shared_ptr<boost::asio::ssl::context> tls);

}  // namespace ifmesh::signaling
