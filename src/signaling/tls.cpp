// TLS contexts and peer checks for wss:// signaling (OpenSSL 3 through Boost.Asio).
#include "signaling/tls.hpp"
#include "ifmesh/error.hpp"

#include <boost/asio/ip/address.hpp>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace ifmesh::signaling {

namespace asio = boost::asio;
namespace ssl = asio::ssl;

namespace {

// OpenSSL's own message for a missing file is vague ("system lib"); say which file and why.
void requireReadable(const std::string& path, const std::string& what) {
  std::ifstream file(path);
  if (!file)
    throw Error(Errc::Io, what + " '" + path + "' cannot be read: " + std::strerror(errno));
}

std::shared_ptr<ssl::context> baseContext(ssl::context::method method) {
  auto context = std::make_shared<ssl::context>(method);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // TLS 1.2 only with forward-secret AEAD suites (no CBC, no SHA-1 MACs, no static RSA); TLS 1.3's
  // suites are all AEAD and stay OpenSSL's defaults.
  if (SSL_CTX_set_cipher_list(ctx,
                              "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                              "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                              "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") != 1)
    throw Error(Errc::Tls, "OpenSSL refused the TLS 1.2 cipher list");
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  return context;
}

}  // namespace

std::shared_ptr<ssl::context> makeServerTls(const std::string& certFile,
                                            const std::string& keyFile) {
  if (certFile.empty() || keyFile.empty())
    throw Error(Errc::Tls, "TLS needs both a certificate file and a private key file");
  requireReadable(certFile, "TLS certificate file");
  requireReadable(keyFile, "TLS private key file");
  auto context = baseContext(ssl::context::tls_server);
  boost::system::error_code ec;
  context->use_certificate_chain_file(certFile, ec);
  if (ec)
    throw Error(Errc::Tls, "TLS certificate file '" + certFile +
                               "' holds no valid PEM certificate: " + ec.message());
  context->use_private_key_file(keyFile, ssl::context::pem, ec);
  if (ec && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH)
    throw Error(Errc::Tls,
                "TLS private key '" + keyFile + "' does not match certificate '" + certFile + "'");
  if (ec)
    throw Error(Errc::Tls, "TLS private key file '" + keyFile +
                               "' holds no valid PEM private key: " + ec.message());
  return context;
}

std::shared_ptr<ssl::context> makeClientTls(const std::string& caFile, bool verifyPeer) {
  auto context = baseContext(ssl::context::tls_client);
  if (!verifyPeer) {
    context->set_verify_mode(ssl::verify_none);
    return context;
  }
  boost::system::error_code ec;
  if (caFile.empty()) {
    context->set_default_verify_paths(ec);
    if (ec) throw Error(Errc::Tls, "TLS: cannot use the system CA store: " + ec.message());
  } else {
    requireReadable(caFile, "TLS CA file");
    context->load_verify_file(caFile, ec);
    if (ec)
      throw Error(Errc::Tls,
                  "TLS CA file '" + caFile + "' holds no valid PEM certificate: " + ec.message());
  }
  context->set_verify_mode(ssl::verify_peer);
  return context;
}

bool prepareClientTls(SSL* ssl, const std::string& host, bool verifyPeer) {
  boost::system::error_code notIp;
  asio::ip::make_address(host, notIp);
  if (notIp && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) return false;  // SNI: names only
  if (!verifyPeer) return true;
  if (!notIp) return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
  return SSL_set1_host(ssl, host.c_str()) == 1;
}

std::string describeTlsFailure(SSL* ssl, const boost::beast::error_code& ec) {
  std::string message = ec.message();
  long verify = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
  if (verify != X509_V_OK)
    message += " (certificate: " + std::string(X509_verify_cert_error_string(verify)) + ")";
  return message;
}

}  // namespace ifmesh::signaling
