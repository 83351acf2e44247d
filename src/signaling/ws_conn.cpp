// WsConn's stream-independent parts (heartbeat, close) and the factory.
#include "signaling/ws_conn.hpp"

#include <utility>

namespace ifmesh::signaling {

namespace asio = boost::asio;
namespace beast = boost::beast;

// One per stream type, each in its own translation unit (see ws_conn_impl.hpp).
std::shared_ptr<WsConn> makePlainWsConn(asio::ip::tcp::socket socket);
std::shared_ptr<WsConn> makeTlsWsConn(asio::ip::tcp::socket socket,
                                      std::shared_ptr<asio::ssl::context> tls);

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
  if (!tls) return makePlainWsConn(std::move(socket));
  return makeTlsWsConn(std::move(socket), std::move(tls));
}

}  // namespace ifmesh::signaling
