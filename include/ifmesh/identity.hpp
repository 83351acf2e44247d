#pragma once
// Agent identity: an Ed25519 key pair (OpenSSL). The public key travels as base64 of its raw 32
// bytes (44 characters), signatures as base64 of their 64 bytes (88 characters).
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ifmesh/export.hpp"
#include "ifmesh/ifmessage.hpp"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace ifmesh {

namespace detail {
// Owned with EVP_PKEY_free as deleter; immutable once made, so copies and threads share it.
using Pkey = std::shared_ptr<evp_pkey_st>;
}  // namespace detail

// A peer's public key, parsed once so that verifying costs no decoding.
class IFMESH_API PublicKey {
 public:
  // Nothing unless `base64` is exactly 32 bytes in canonical base64.
  static std::optional<PublicKey> parse(std::string_view base64);
  // The Ed25519 key in a PEM file: a public key (as `openssl pkey -pubout` writes it) or the
  // public half of a private key (an agent's key file). Throws Error(InvalidArgument) naming the
  // file when it is unreadable or holds neither.
  static PublicKey loadPem(const std::string& path);
  const std::string& base64() const { return base64_; }
  // False for any signature that is not a valid base64 Ed25519 signature of `data` by this key.
  bool verify(std::string_view data, std::string_view signatureBase64) const noexcept;

 private:
  detail::Pkey key_;
  std::string base64_;
};

class IFMESH_API AgentIdentity {
 public:
  static AgentIdentity generate();
  // Throws ifmesh::Error(InvalidArgument) naming the file when it is unreadable or holds no
  // Ed25519 private key.
  static AgentIdentity loadPem(const std::string& path);
  // Loads the key, or generates one and saves it (mode 0600) when the file does not exist.
  static AgentIdentity loadOrCreate(const std::string& path);
  void savePem(const std::string& path) const;  // throws Error(InvalidArgument) on failure

  const std::string& publicKey() const { return publicKey_; }  // base64, 32 raw bytes
  std::string sign(std::string_view data) const;               // base64, 64 bytes
  static bool verify(std::string_view publicKeyBase64, std::string_view data,
                     std::string_view signatureBase64) noexcept;

 private:
  explicit AgentIdentity(detail::Pkey key);
  detail::Pkey key_;
  std::string publicKey_;
};

// Sets message.signature over canonicalForm(message).
IFMESH_API void signMessage(IFMessage& message, const AgentIdentity& identity);
IFMESH_API bool verifyMessage(const IFMessage& message, const PublicKey& key) noexcept;

// Strict base64 (RFC 4648, padded): nothing for non-canonical input.
IFMESH_API std::string base64Encode(std::string_view bytes);
IFMESH_API std::optional<std::string> base64Decode(std::string_view text);

}  // namespace ifmesh
