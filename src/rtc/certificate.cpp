#include "rtc/certificate.hpp"

#include <openssl/ec.h>
#include <openssl/rand.h>

#include "ifmesh/error.hpp"

namespace ifmesh::rtc {

std::vector<std::uint8_t> certificateFingerprint(X509* cert) {
  std::vector<std::uint8_t> digest(EVP_MAX_MD_SIZE);
  unsigned int length = 0;
  if (X509_digest(cert, EVP_sha256(), digest.data(), &length) != 1)
    throw Error(Errc::Internal, "X509_digest failed");
  digest.resize(length);
  return digest;
}

Certificate::Certificate(X509Ptr cert, PkeyPtr key)
    : cert_(std::move(cert)),
      key_(std::move(key)),
      fingerprint_(certificateFingerprint(cert_.get())) {}

Certificate Certificate::generate(const std::string& commonName) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) throw Error(Errc::Internal, "P-256 key generation failed");
  X509Ptr cert(X509_new());
  if (!cert) throw Error(Errc::Internal, "X509_new failed");
  X509_set_version(cert.get(), 2);
  std::uint64_t serial = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof serial);
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), serial >> 1);
  // Valid from a day ago (clock skew between peers) for 30 days.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24 * 3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 30L * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(commonName.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
    throw Error(Errc::Internal, "certificate signing failed");
  return Certificate(std::move(cert), std::move(key));
}

}  // namespace ifmesh::rtc
