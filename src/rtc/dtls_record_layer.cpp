#include "rtc/dtls_record_layer.hpp"

#include <openssl/core_names.h>
#include <openssl/kdf.h>

#include <array>
#include <cstring>
#include <string>

#include "ifmesh/error.hpp"

namespace ifmesh::rtc {

namespace {

constexpr std::uint16_t kEpoch = 1;  // the only epoch after a handshake without renegotiation
constexpr std::uint8_t kVersionMajor = 0xfe, kVersionMinor = 0xfd;  // DTLS 1.2
constexpr std::size_t kTag = 16;
constexpr std::size_t kExplicitNonce = 8;  // AES-GCM carries 8 bytes of its nonce in the record
constexpr std::size_t kMaxPlaintext = 1 << 14;
constexpr std::uint64_t kSequenceLimit = std::uint64_t{1} << 48;

struct Suite {
  const EVP_CIPHER* cipher;
  std::size_t keyLength, ivLength;
  bool explicitNonce;
};

Suite suiteOf(DtlsAead aead) {
  switch (aead) {
    case DtlsAead::Aes128Gcm:
      return {EVP_aes_128_gcm(), 16, 4, true};
    case DtlsAead::Aes256Gcm:
      return {EVP_aes_256_gcm(), 32, 4, true};
    case DtlsAead::Chacha20Poly1305:
      return {EVP_chacha20_poly1305(), 32, 12, false};
  }
  return {nullptr, 0, 0, false};
}

// RFC 5246 §6.2.3.3 additional data: seq_num (epoch and sequence), type, version, length.
void additionalData(std::uint8_t out[13], std::uint64_t epochAndSequence, std::uint8_t type,
                    std::size_t length) {
  detail::store64(out, epochAndSequence);
  out[8] = type;
  out[9] = kVersionMajor;
  out[10] = kVersionMinor;
  detail::store16(out + 11, static_cast<std::uint16_t>(length));
}

std::uint64_t epochAndSequence(std::uint64_t sequence) {
  return (std::uint64_t{kEpoch} << 48) | sequence;
}

}  // namespace

std::optional<DtlsKeys> exportDtlsKeys(SSL* ssl) {
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
  SSL_SESSION* session = SSL_get_session(ssl);
  if (!cipher || !session) return std::nullopt;
  DtlsKeys keys;
  switch (SSL_CIPHER_get_protocol_id(cipher)) {
    case 0xc02b:  // ECDHE-ECDSA-AES128-GCM-SHA256
    case 0xc02f:  // ECDHE-RSA-AES128-GCM-SHA256
      keys.aead = DtlsAead::Aes128Gcm;
      break;
    case 0xc02c:  // ECDHE-ECDSA-AES256-GCM-SHA384
    case 0xc030:  // ECDHE-RSA-AES256-GCM-SHA384
      keys.aead = DtlsAead::Aes256Gcm;
      break;
    case 0xcca9:  // ECDHE-ECDSA-CHACHA20-POLY1305
    case 0xcca8:  // ECDHE-RSA-CHACHA20-POLY1305
      keys.aead = DtlsAead::Chacha20Poly1305;
      break;
    default:
      return std::nullopt;
  }
  const EVP_MD* digest = SSL_CIPHER_get_handshake_digest(cipher);
  std::array<std::uint8_t, SSL_MAX_MASTER_KEY_LENGTH> master{};
  std::size_t masterLength = SSL_SESSION_get_master_key(session, master.data(), master.size());
  if (!digest || masterLength == 0) return std::nullopt;

  // RFC 5246 §6.3: key_block = PRF(master_secret, "key expansion", server_random + client_random)
  // = client MAC key, server MAC key (none for an AEAD), client key, server key, client IV,
  // server IV.
  static constexpr char kLabel[] = "key expansion";
  std::array<std::uint8_t, sizeof kLabel - 1 + 2 * SSL3_RANDOM_SIZE> seed{};
  std::memcpy(seed.data(), kLabel, sizeof kLabel - 1);
  if (SSL_get_server_random(ssl, seed.data() + sizeof kLabel - 1, SSL3_RANDOM_SIZE) !=
          SSL3_RANDOM_SIZE ||
      SSL_get_client_random(ssl, seed.data() + sizeof kLabel - 1 + SSL3_RANDOM_SIZE,
                            SSL3_RANDOM_SIZE) != SSL3_RANDOM_SIZE)
    return std::nullopt;
  const Suite suite = suiteOf(keys.aead);
  std::vector<std::uint8_t> block(2 * (suite.keyLength + suite.ivLength));

  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "TLS1-PRF", nullptr);
  EVP_KDF_CTX* ctx = kdf ? EVP_KDF_CTX_new(kdf) : nullptr;
  EVP_KDF_free(kdf);
  if (!ctx) return std::nullopt;
  std::string digestName = EVP_MD_get0_name(digest);
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digestName.data(), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, master.data(), masterLength),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed.data(), seed.size()),
      OSSL_PARAM_construct_end()};
  const bool derived = EVP_KDF_derive(ctx, block.data(), block.size(), params) == 1;
  EVP_KDF_CTX_free(ctx);
  OPENSSL_cleanse(master.data(), master.size());
  if (!derived) return std::nullopt;

  const auto* p = block.data();
  auto take = [&p](std::size_t n) {
    std::vector<std::uint8_t> v(p, p + n);
    p += n;
    return v;
  };
  auto clientKey = take(suite.keyLength), serverKey = take(suite.keyLength);
  auto clientIv = take(suite.ivLength), serverIv = take(suite.ivLength);
  OPENSSL_cleanse(block.data(), block.size());
  const bool server = SSL_is_server(ssl) == 1;
  keys.writeKey = server ? serverKey : clientKey;
  keys.readKey = server ? clientKey : serverKey;
  keys.writeIv = server ? serverIv : clientIv;
  keys.readIv = server ? clientIv : serverIv;
  OPENSSL_cleanse(clientKey.data(), clientKey.size());
  OPENSSL_cleanse(serverKey.data(), serverKey.size());
  return keys;
}

DtlsRecordLayer::DtlsRecordLayer(const DtlsKeys& keys, std::uint64_t nextWriteSequence,
                                 std::optional<std::uint64_t> highestReadSequence)
    : aead_(keys.aead),
      sealCtx_(EVP_CIPHER_CTX_new()),
      openCtx_(EVP_CIPHER_CTX_new()),
      writeIv_(keys.writeIv),
      readIv_(keys.readIv),
      nextWrite_(nextWriteSequence) {
  const Suite suite = suiteOf(aead_);
  if (!sealCtx_ || !openCtx_ || keys.writeKey.size() != suite.keyLength ||
      keys.readKey.size() != suite.keyLength || writeIv_.size() != suite.ivLength ||
      readIv_.size() != suite.ivLength ||
      EVP_EncryptInit_ex(sealCtx_.get(), suite.cipher, nullptr, keys.writeKey.data(), nullptr) !=
          1 ||
      EVP_DecryptInit_ex(openCtx_.get(), suite.cipher, nullptr, keys.readKey.data(), nullptr) != 1)
    throw Error(Errc::Internal, "DTLS record layer: cipher setup failed");
  if (highestReadSequence) {
    highestRead_ = *highestReadSequence;
    window_ = ~std::uint64_t{0};
  }
}

DtlsRecordLayer::~DtlsRecordLayer() = default;

// GCM: the 4-byte implicit salt, then the 8 explicit bytes, which are the record's epoch and
// sequence number (as OpenSSL and BoringSSL send them). ChaCha20-Poly1305: the 12-byte IV XOR
// the epoch and sequence number, left-padded (RFC 7905 §2).
void DtlsRecordLayer::nonce(const std::vector<std::uint8_t>& iv, std::uint64_t seq,
                            std::uint8_t out[12]) const {
  if (aead_ == DtlsAead::Chacha20Poly1305) {
    std::memcpy(out, iv.data(), 12);
    std::uint8_t s[8];
    detail::store64(s, seq);
    for (int i = 0; i < 8; ++i) out[4 + i] ^= s[i];
  } else {
    std::memcpy(out, iv.data(), 4);
    detail::store64(out + 4, seq);
  }
}

bool DtlsRecordLayer::seal(std::uint8_t type, std::span<const std::uint8_t> data,
                           std::vector<std::uint8_t>& out) {
  if (data.size() > kMaxPlaintext || nextWrite_ >= kSequenceLimit) return false;
  const bool explicitNonce = aead_ != DtlsAead::Chacha20Poly1305;
  const std::uint64_t seq = epochAndSequence(nextWrite_++);
  const std::size_t body = (explicitNonce ? kExplicitNonce : 0) + data.size() + kTag;
  const std::size_t start = out.size();
  out.resize(start + kDtlsHeaderSize + body);
  std::uint8_t* h = out.data() + start;
  h[0] = type;
  h[1] = kVersionMajor;
  h[2] = kVersionMinor;
  detail::store64(h + 3, seq);  // epoch (2 bytes) and sequence number (6 bytes)
  detail::store16(h + 11, static_cast<std::uint16_t>(body));
  std::uint8_t* p = h + kDtlsHeaderSize;
  if (explicitNonce) {
    detail::store64(p, seq);
    p += kExplicitNonce;
  }
  std::uint8_t iv[12], aad[13];
  nonce(writeIv_, seq, iv);
  additionalData(aad, seq, type, data.size());
  int n = 0;
  EVP_CIPHER_CTX* c = sealCtx_.get();
  if (EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, iv) != 1 ||
      EVP_EncryptUpdate(c, nullptr, &n, aad, sizeof aad) != 1 ||
      EVP_EncryptUpdate(c, p, &n, data.data(), static_cast<int>(data.size())) != 1 ||
      EVP_EncryptFinal_ex(c, p + n, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, kTag, p + data.size()) != 1) {
    out.resize(start);
    return false;
  }
  return true;
}

bool DtlsRecordLayer::fresh(std::uint64_t sequence) const {
  if (sequence > highestRead_) return true;
  const std::uint64_t behind = highestRead_ - sequence;
  return behind < 64 && !(window_ & (std::uint64_t{1} << behind));
}

void DtlsRecordLayer::received(std::uint64_t sequence) {
  if (sequence > highestRead_) {
    const std::uint64_t shift = sequence - highestRead_;
    window_ = shift >= 64 ? 0 : window_ << shift;
    window_ |= 1;
    highestRead_ = sequence;
  } else {
    window_ |= std::uint64_t{1} << (highestRead_ - sequence);
  }
}

std::size_t DtlsRecordLayer::open(
    std::span<const std::uint8_t> datagram, std::vector<std::byte>& scratch,
    const std::function<void(std::uint8_t, std::span<const std::uint8_t>)>& fn) {
  std::size_t dropped = 0;
  const bool explicitNonce = aead_ != DtlsAead::Chacha20Poly1305;
  const std::size_t overhead = (explicitNonce ? kExplicitNonce : 0) + kTag;
  forEachDtlsRecord(datagram, [&](const DtlsRecordHeader& r) {
    if (r.version != ((kVersionMajor << 8) | kVersionMinor) || r.epoch != kEpoch ||
        r.fragment.size() < overhead || r.fragment.size() - overhead > kMaxPlaintext ||
        !fresh(r.sequence)) {
      ++dropped;
      return;
    }
    const std::uint64_t seq = epochAndSequence(r.sequence);
    const std::uint8_t* p = r.fragment.data() + (explicitNonce ? kExplicitNonce : 0);
    const std::size_t length = r.fragment.size() - overhead;
    if (scratch.size() < length + kTag) scratch.resize(length + kTag);
    auto* plain = reinterpret_cast<std::uint8_t*>(scratch.data());
    std::uint8_t iv[12], aad[13], tag[kTag];
    if (explicitNonce)
      std::memcpy(iv, readIv_.data(), 4), std::memcpy(iv + 4, r.fragment.data(), kExplicitNonce);
    else
      nonce(readIv_, seq, iv);
    additionalData(aad, seq, r.type, length);
    std::memcpy(tag, p + length, kTag);
    int n = 0;
    EVP_CIPHER_CTX* c = openCtx_.get();
    if (EVP_DecryptInit_ex(c, nullptr, nullptr, nullptr, iv) != 1 ||
        EVP_DecryptUpdate(c, nullptr, &n, aad, sizeof aad) != 1 ||
        EVP_DecryptUpdate(c, plain, &n, p, static_cast<int>(length)) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, kTag, tag) != 1 ||
        EVP_DecryptFinal_ex(c, plain + n, &n) != 1) {
      ++dropped;
      return;
    }
    received(r.sequence);
    fn(r.type, std::span<const std::uint8_t>(plain, length));
  });
  return dropped;
}

}  // namespace ifmesh::rtc
