#pragma once
// RAII owners for OpenSSL handles.
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>

namespace ifmesh::rtc {

struct SslDeleter {
  void operator()(SSL* p) const { SSL_free(p); }
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO_METHOD* p) const { BIO_meth_free(p); }
};

using SslPtr = std::unique_ptr<SSL, SslDeleter>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslDeleter>;
using X509Ptr = std::unique_ptr<X509, SslDeleter>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, SslDeleter>;
using BioMethodPtr = std::unique_ptr<BIO_METHOD, SslDeleter>;

}  // namespace ifmesh::rtc
