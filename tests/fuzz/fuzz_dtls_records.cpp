// DTLS records as they arrive on an established connection (src/rtc/dtls_record_layer): any
// datagram is opened without harm, and what one end seals the other opens to the same bytes,
// once, while any changed byte makes it drop the record. The first input byte picks the AEAD.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_check.hpp"
#include "rtc/dtls_record_layer.hpp"

using namespace ifmesh::rtc;

namespace {

DtlsKeys keys(DtlsAead aead, bool mirrored) {
  const std::size_t key = aead == DtlsAead::Aes128Gcm ? 16 : 32;
  const std::size_t iv = aead == DtlsAead::Chacha20Poly1305 ? 12 : 4;
  DtlsKeys k;
  k.aead = aead;
  std::vector<std::uint8_t> a(key, 0x11), b(key, 0x22), ia(iv, 0x33), ib(iv, 0x44);
  k.writeKey = mirrored ? b : a;
  k.readKey = mirrored ? a : b;
  k.writeIv = mirrored ? ib : ia;
  k.readIv = mirrored ? ia : ib;
  return k;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto aead = static_cast<DtlsAead>(data[0] % 3);
  std::span<const std::uint8_t> rest(data + 1, size - 1);
  std::vector<std::byte> scratch;

  // Hostile bytes: opened, never trusted.
  DtlsRecordLayer receiver(keys(aead, true), 0, std::nullopt);
  receiver.open(rest, scratch, [](std::uint8_t, std::span<const std::uint8_t> p) {
    FUZZ_CHECK(p.size() <= 16384);
  });

  // The input as plaintext: sealed by one end, opened once by the other, refused when changed.
  DtlsRecordLayer sender(keys(aead, false), 0, std::nullopt);
  DtlsRecordLayer peer(keys(aead, true), 0, std::nullopt);
  std::vector<std::uint8_t> record;
  if (!sender.seal(kDtlsApplicationData, rest, record)) {
    FUZZ_CHECK(rest.size() > 16384);
    return 0;
  }
  int opened = 0;
  auto check = [&](std::uint8_t type, std::span<const std::uint8_t> p) {
    FUZZ_CHECK(type == kDtlsApplicationData);
    FUZZ_CHECK(std::equal(p.begin(), p.end(), rest.begin(), rest.end()));
    ++opened;
  };
  std::vector<std::uint8_t> changed = record;
  changed[(rest.empty() ? 0 : rest[0]) % changed.size()] ^= 0x01;
  peer.open(changed, scratch, check);  // dropped, or not even a whole record
  FUZZ_CHECK(opened == 0);
  FUZZ_CHECK(peer.open(record, scratch, check) == 0);
  FUZZ_CHECK(peer.open(record, scratch, check) == 1);  // a replay
  FUZZ_CHECK(opened == 1);
  return 0;
}
