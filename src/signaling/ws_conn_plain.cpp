// WsConn over plain TCP (ws://).
#include "signaling/ws_conn_impl.hpp"

namespace ifmesh::signaling {

std::shared_ptr<WsConn> makePlainWsConn(boost::asio::ip::tcp::socket socket) {
  auto executor = socket.get_executor();
  return std::make_shared<detail::BasicWsConn<boost::beast::tcp_stream>>(executor, nullptr,
                                                                         std::move(socket));
}

}  // namespace ifmesh::signaling
