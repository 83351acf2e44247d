// WsConn over TLS (wss://).
#include "signaling/ws_conn_impl.hpp"

namespace ifmesh::signaling {

std::shared_ptr<WsConn> makeTlsWsConn(boost::asio::ip::tcp::socket socket,
                                      std::shared_ptr<boost::asio::ssl::context> tls) {
  auto executor = socket.get_executor();
  auto& context = *tls;
  return std::make_shared<detail::BasicWsConn<detail::TlsStream>>(executor, std::move(tls),
                                                                  std::move(socket), context);
}

}  // namespace ifmesh::signaling
