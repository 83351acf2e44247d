#pragma once
// The DTLS 1.2 record layer of an established connection (RFC 6347 §4.1), sans-IO: records of
// epoch 1 sealed and opened with the AEAD the handshake chose (AES-GCM, RFC 5288; ChaCha20-
// Poly1305, RFC 7905), with a 64-record replay window.
//
// Why: an OpenSSL SSL object keeps ~70 KiB per connection after the handshake (its read and
// write buffers, the handshake buffer DTLS keeps for retransmissions, the session and the peer's
// certificate). Once the handshake is over, this layer (two cipher contexts, ~2 KiB) carries the
// records and the SSL object is freed (rtc/dtls_transport.cpp says when that is safe).
//
// Not thread-safe: one connection's loop thread.
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "big_endian.hpp"

namespace ifmesh::rtc {

enum class DtlsAead : std::uint8_t { Aes128Gcm, Aes256Gcm, Chacha20Poly1305 };

// What seals and opens epoch 1 on one end: the key block of RFC 5246 §6.3 split by direction.
struct DtlsKeys {
  DtlsAead aead = DtlsAead::Aes128Gcm;
  std::vector<std::uint8_t> writeKey, writeIv, readKey, readIv;
};

// The keys of a connection whose handshake `ssl` completed, from its master secret and randoms;
// nullopt for a cipher suite this layer does not implement (the SSL object then stays in use).
std::optional<DtlsKeys> exportDtlsKeys(SSL* ssl);

inline constexpr std::size_t kDtlsHeaderSize = 13;
inline constexpr std::uint8_t kDtlsChangeCipherSpec = 20;
inline constexpr std::uint8_t kDtlsAlert = 21;
inline constexpr std::uint8_t kDtlsHandshake = 22;
inline constexpr std::uint8_t kDtlsApplicationData = 23;

struct DtlsRecordHeader {
  std::uint8_t type = 0;
  std::uint16_t version = 0;  // 0xfefd: DTLS 1.2
  std::uint16_t epoch = 0;
  std::uint64_t sequence = 0;  // 48 bits
  std::span<const std::uint8_t> fragment;
};

// Calls `fn` for each whole record of a datagram, in order; stops at the first that does not fit.
// A template: it runs for every datagram a connection receives.
template <typename Fn>
void forEachDtlsRecord(std::span<const std::uint8_t> datagram, Fn&& fn) {
  while (datagram.size() >= kDtlsHeaderSize) {
    const std::uint8_t* d = datagram.data();
    const std::size_t length = detail::get16(d + 11);
    if (kDtlsHeaderSize + length > datagram.size()) return;
    DtlsRecordHeader h;
    h.type = d[0];
    h.version = detail::get16(d + 1);
    h.epoch = detail::get16(d + 3);
    h.sequence = std::uint64_t{detail::get16(d + 5)} << 32 | detail::get32(d + 7);
    h.fragment = datagram.subspan(kDtlsHeaderSize, length);
    fn(h);
    datagram = datagram.subspan(kDtlsHeaderSize + length);
  }
}

class DtlsRecordLayer {
 public:
  // nextWriteSequence: the first epoch-1 sequence number not yet used by this end;
  // highestReadSequence: the highest the peer's records reached so far (it and all below count
  // as received), or nullopt if none arrived.
  DtlsRecordLayer(const DtlsKeys& keys, std::uint64_t nextWriteSequence,
                  std::optional<std::uint64_t> highestReadSequence);
  ~DtlsRecordLayer();
  DtlsRecordLayer(const DtlsRecordLayer&) = delete;
  DtlsRecordLayer& operator=(const DtlsRecordLayer&) = delete;

  // Appends one record of `type` holding `data` to `out`. False when the data does not fit a
  // record (2^14 bytes) or the sequence space is spent.
  bool seal(std::uint8_t type, std::span<const std::uint8_t> data, std::vector<std::uint8_t>& out);

  // Opens the epoch-1 records of a datagram into `scratch` and calls `fn(type, plaintext)` for
  // each that authenticates and is not a replay; other versions and epochs, forgeries and replays
  // are dropped
  // (RFC 6347 §4.1.2.7). Returns how many records were dropped.
  std::size_t open(std::span<const std::uint8_t> datagram, std::vector<std::byte>& scratch,
                   const std::function<void(std::uint8_t, std::span<const std::uint8_t>)>& fn);

 private:
  struct CipherCtxDeleter {
    void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
  };
  using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

  void nonce(const std::vector<std::uint8_t>& iv, std::uint64_t epochAndSequence,
             std::uint8_t out[12]) const;
  bool fresh(std::uint64_t sequence) const;
  void received(std::uint64_t sequence);

  DtlsAead aead_;
  CipherCtxPtr sealCtx_, openCtx_;
  std::vector<std::uint8_t> writeIv_, readIv_;
  std::uint64_t nextWrite_;
  std::uint64_t highestRead_ = 0;
  std::uint64_t window_ = 0;  // bit i: highestRead_ - i was received
};

}  // namespace ifmesh::rtc
