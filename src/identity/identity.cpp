#include "ifmesh/identity.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>

#include "ifmesh/error.hpp"
#include "sync_directory.hpp"

namespace ifmesh {

namespace {

constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kSignatureBytes = 64;

struct Free {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
  void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); }
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Free>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Free>;
using FilePtr = std::unique_ptr<std::FILE, Free>;

detail::Pkey own(EVP_PKEY* key) {
  return detail::Pkey(key, [](EVP_PKEY* p) { EVP_PKEY_free(p); });
}

Error bad(const std::string& why) {
  return Error(Errc::InvalidArgument, why);
}

std::string rawPublicKey(EVP_PKEY* key) {
  std::array<unsigned char, kKeyBytes> raw{};
  std::size_t length = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, raw.data(), &length) != 1 || length != kKeyBytes)
    throw bad("identity: cannot read the Ed25519 public key");
  return base64Encode({reinterpret_cast<const char*>(raw.data()), length});
}

bool verifyWith(EVP_PKEY* key, std::string_view data, std::string_view signatureBase64) {
  auto signature = base64Decode(signatureBase64);
  if (!signature || signature->size() != kSignatureBytes) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature->data()),
                          signature->size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

}  // namespace

std::string base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64Decode(std::string_view text) {
  if (text.size() % 4 != 0 || text.size() > (1u << 20)) return std::nullopt;
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '=';
    if (!ok) return std::nullopt;  // EVP_DecodeBlock would skip whitespace
  }
  std::string out(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts padding as zero bytes.
  std::size_t padding = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
  out.resize(static_cast<std::size_t>(n) - padding);
  if (base64Encode(out) != text) return std::nullopt;  // one spelling per byte string
  return out;
}

std::optional<PublicKey> PublicKey::parse(std::string_view base64) {
  auto raw = base64Decode(base64);
  if (!raw || raw->size() != kKeyBytes) return std::nullopt;
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw->data()), raw->size());
  if (!key) return std::nullopt;
  PublicKey out;
  out.key_ = own(key);
  out.base64_ = std::string(base64);
  return out;
}

PublicKey PublicKey::loadPem(const std::string& path) {
  FilePtr f(std::fopen(path.c_str(), "rb"));
  if (!f) throw bad("identity: cannot open key file " + path);
  EVP_PKEY* key = PEM_read_PUBKEY(f.get(), nullptr, nullptr, nullptr);
  if (!key) {
    ERR_clear_error();  // not a public key: no stale error for the next OpenSSL caller
    std::rewind(f.get());
    key = PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr);
  }
  if (!key) {
    ERR_clear_error();
    throw bad("identity: " + path + " holds no PEM public or private key");
  }
  auto owned = own(key);
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519)
    throw bad("identity: the key in " + path + " is not an Ed25519 key");
  auto parsed = parse(rawPublicKey(key));
  if (!parsed) throw bad("identity: cannot read the Ed25519 public key in " + path);
  return std::move(*parsed);
}

bool PublicKey::verify(std::string_view data, std::string_view signatureBase64) const noexcept {
  return key_ && verifyWith(key_.get(), data, signatureBase64);
}

AgentIdentity::AgentIdentity(detail::Pkey key)
    : key_(std::move(key)), publicKey_(rawPublicKey(key_.get())) {}

AgentIdentity AgentIdentity::generate() {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &key) != 1)
    throw Error(Errc::Internal, "identity: Ed25519 key generation failed");
  return AgentIdentity(own(key));
}

AgentIdentity AgentIdentity::loadPem(const std::string& path) {
  FilePtr f(std::fopen(path.c_str(), "rb"));
  if (!f) throw bad("identity: cannot open key file " + path);
  EVP_PKEY* key = PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr);
  if (!key) throw bad("identity: " + path + " holds no PEM private key");
  auto owned = own(key);
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519)
    throw bad("identity: the key in " + path + " is not an Ed25519 key");
  return AgentIdentity(std::move(owned));
}

AgentIdentity AgentIdentity::loadOrCreate(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return loadPem(path);
  auto identity = generate();
  identity.savePem(path);
  return identity;
}

void AgentIdentity::savePem(const std::string& path) const {
  // Written whole or not at all, and durable once this returns: the key goes to a temporary file
  // beside `path` that is synced, renamed over `path`, and the directory synced. A power loss
  // therefore leaves the old file or the new one, never an empty or cut one (a durable agent that
  // restarts with its state but without its key would present a different identity to peers).
  const std::string temporary = path + ".tmp";
  // Private from the first byte: a fresh file created with mode 0600 (one left by a crash is
  // removed first, whatever its mode).
  std::remove(temporary.c_str());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw bad("identity: cannot create key file " + temporary);
  FilePtr f(::fdopen(fd, "wb"));
  if (!f) {
    ::close(fd);
    throw bad("identity: cannot create key file " + temporary);
  }
  if (PEM_write_PrivateKey(f.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      std::fflush(f.get()) != 0 || ::fsync(::fileno(f.get())) != 0) {
    f.reset();
    std::remove(temporary.c_str());
    throw bad("identity: cannot write key file " + temporary);
  }
  f.reset();
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw bad("identity: cannot rename " + temporary + " to " + path);
  }
  auto directory = std::filesystem::path(path).parent_path();
  if (directory.empty()) directory = ".";
  if (detail::syncDirectory(directory) != 0)
    throw bad("identity: cannot sync the directory of " + path);
}

std::string AgentIdentity::sign(std::string_view data) const {
  std::array<unsigned char, kSignatureBytes> signature{};
  std::size_t length = signature.size();
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), signature.data(), &length,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1)
    throw Error(Errc::Internal, "identity: Ed25519 signing failed");
  return base64Encode({reinterpret_cast<const char*>(signature.data()), length});
}

bool AgentIdentity::verify(std::string_view publicKeyBase64, std::string_view data,
                           std::string_view signatureBase64) noexcept {
  auto key = PublicKey::parse(publicKeyBase64);
  return key && key->verify(data, signatureBase64);
}

void signMessage(IFMessage& message, const AgentIdentity& identity) {
  message.signature = identity.sign(canonicalForm(message));
}

bool verifyMessage(const IFMessage& message, const PublicKey& key) noexcept {
  try {
    return key.verify(canonicalForm(message), message.signature);
  } catch (const std::exception&) {
    return false;  // a payload nlohmann cannot dump (it parsed, so this should not happen)
  }
}

}  // namespace ifmesh
