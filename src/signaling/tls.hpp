#pragma once
// TLS set-up for wss:// signaling: contexts for the server and the client, per-connection peer
// checks and readable failure messages. Errors in configuration throw std::runtime_error.
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/error.hpp>

#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace ifmesh::signaling {

std::shared_ptr<boost::asio::ssl::context> makeServerTls(const std::string& certFile,
                                                         const std::string& keyFile);
// `caFile` empty: the system's default verify paths.
std::shared_ptr<boost::asio::ssl::context> makeClientTls(const std::string& caFile,
                                                         bool verifyPeer);
// SNI for host names and the name (or IP address) the server's certificate must carry.
bool prepareClientTls(SSL* ssl, const std::string& host, bool verifyPeer);
// The handshake error, with OpenSSL's certificate verification result when that failed.
std::string describeTlsFailure(SSL* ssl, const boost::beast::error_code& ec);

}  // namespace ifmesh::signaling
