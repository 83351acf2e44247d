#pragma once
// The DTLS identity: an ECDSA P-256 self-signed certificate. One is made per process (key
// generation costs far more than a handshake) and shared by every connection.
#include <cstdint>
#include <string>
#include <vector>

#include "rtc/ssl_handles.hpp"

namespace ifmesh::rtc {

class Certificate {
 public:
  static Certificate generate(const std::string& commonName = "ifmesh");

  X509* x509() const { return cert_.get(); }
  EVP_PKEY* key() const { return key_.get(); }
  const std::vector<std::uint8_t>& fingerprint() const { return fingerprint_; }  // SHA-256 of DER

 private:
  Certificate(X509Ptr cert, PkeyPtr key);
  X509Ptr cert_;
  PkeyPtr key_;
  std::vector<std::uint8_t> fingerprint_;
};

// SHA-256 over the certificate's DER encoding, as in a=fingerprint.
std::vector<std::uint8_t> certificateFingerprint(X509* cert);

}  // namespace ifmesh::rtc
