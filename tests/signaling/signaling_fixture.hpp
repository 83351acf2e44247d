#pragma once
// Shared pieces of the plain ws:// signaling tests: a loopback server config, a client config
// for it, and a bare WebSocket for tests that must control every frame they send.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "ifmesh/signaling.hpp"

namespace ifmesh::signaling::test {

inline ServerConfig loopbackServer(std::string secret = "") {
  ServerConfig c;
  c.port = 0;
  c.sharedSecret = std::move(secret);
  return c;
}

inline ClientConfig clientFor(const Server& s, const std::string& id, std::string token = "") {
  ClientConfig c;
  c.url = "ws://127.0.0.1:" + std::to_string(s.port());
  c.agentId = id;
  c.token = std::move(token);
  return c;
}

// A WebSocket without the Client's protocol: connected, handshaken, in text mode.
struct RawSocket {
  explicit RawSocket(const Server& server) : resolver(io), ws(io) {
    boost::beast::get_lowest_layer(ws).connect(
        resolver.resolve("127.0.0.1", std::to_string(server.port())));
    ws.handshake("127.0.0.1", "/");
    ws.text(true);
  }
  // The next message as JSON, or a discarded value once the server has closed the connection.
  nlohmann::json read() {
    boost::beast::flat_buffer buffer;
    boost::beast::error_code ec;
    ws.read(buffer, ec);
    if (ec) return nlohmann::json::value_t::discarded;
    return nlohmann::json::parse(boost::beast::buffers_to_string(buffer.data()), nullptr, false);
  }
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws;
};

}  // namespace ifmesh::signaling::test
