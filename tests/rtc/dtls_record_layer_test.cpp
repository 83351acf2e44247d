// The record layer that carries an established DTLS connection speaks OpenSSL's own records:
// after a real handshake between two OpenSSL endpoints (memory BIOs, no socket), what one end's
// OpenSSL writes our layer opens, and what our layer seals the other end's OpenSSL reads, for
// each cipher suite the layer implements. Then the layer's own rules: forgeries, replays, other
// epochs and records that do not fit are dropped.
#include <gtest/gtest.h>
#include <openssl/err.h>

#include <string>
#include <vector>

#include "rtc/certificate.hpp"
#include "rtc/dtls_record_layer.hpp"
#include "rtc/dtls_transport.hpp"

namespace ifmesh::rtc {
namespace {

using Bytes = std::vector<std::uint8_t>;

int acceptAny(int, X509_STORE_CTX*) {
  return 1;
}  // the fingerprint check is not under test

struct Endpoint {
  SslCtxPtr ctx;
  SslPtr ssl;
  BIO* in = nullptr;
  BIO* out = nullptr;
  std::uint64_t nextWrite = 0;  // epoch 1, as DtlsTransport counts it

  Endpoint(const Certificate& cert, bool client, const char* suite)
      : ctx(makeDtlsContext(cert)), ssl(nullptr) {
    SSL_CTX_set_cipher_list(ctx.get(), suite);
    ssl.reset(SSL_new(ctx.get()));
    SSL_set_verify(ssl.get(), SSL_VERIFY_PEER, &acceptAny);
    in = BIO_new(BIO_s_mem());
    out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(in, -1);
    BIO_set_mem_eof_return(out, -1);
    SSL_set_bio(ssl.get(), in, out);
    SSL_set_mtu(ssl.get(), 1200);
    if (client)
      SSL_set_connect_state(ssl.get());
    else
      SSL_set_accept_state(ssl.get());
  }

  // Everything written since the last call, with the epoch-1 sequence numbers counted.
  Bytes drain() {
    Bytes b(static_cast<std::size_t>(BIO_ctrl_pending(out)));
    if (!b.empty()) BIO_read(out, b.data(), static_cast<int>(b.size()));
    forEachDtlsRecord(b, [this](const DtlsRecordHeader& r) {
      if (r.epoch == 1) nextWrite = std::max(nextWrite, r.sequence + 1);
    });
    return b;
  }
  void feed(const Bytes& b) {
    if (!b.empty()) BIO_write(in, b.data(), static_cast<int>(b.size()));
  }
};

class Handshaken : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    client = std::make_unique<Endpoint>(cert, true, GetParam());
    server = std::make_unique<Endpoint>(cert, false, GetParam());
    for (int round = 0; round < 20; ++round) {
      int c = SSL_do_handshake(client->ssl.get());
      server->feed(client->drain());
      int s = SSL_do_handshake(server->ssl.get());
      client->feed(server->drain());
      if (c == 1 && s == 1) return;
    }
    FAIL() << "no handshake: " << ERR_error_string(ERR_get_error(), nullptr);
  }

  Certificate cert = Certificate::generate("record-layer-test");
  std::unique_ptr<Endpoint> client, server;
  std::vector<std::byte> scratch;
};

std::string text(std::span<const std::uint8_t> s) {
  return {s.begin(), s.end()};
}

TEST_P(Handshaken, KeysMirrorEachOther) {
  auto c = exportDtlsKeys(client->ssl.get());
  auto s = exportDtlsKeys(server->ssl.get());
  ASSERT_TRUE(c && s);
  EXPECT_EQ(c->aead, s->aead);
  EXPECT_EQ(c->writeKey, s->readKey);
  EXPECT_EQ(c->readKey, s->writeKey);
  EXPECT_EQ(c->writeIv, s->readIv);
  EXPECT_NE(c->writeKey, c->readKey);
}

TEST_P(Handshaken, OpensWhatOpenSslSealsAndOpenSslOpensWhatItSeals) {
  auto keys = exportDtlsKeys(client->ssl.get());
  ASSERT_TRUE(keys);
  DtlsRecordLayer layer(*keys, client->nextWrite, std::nullopt);

  // The server's OpenSSL writes; the client's records are ours from here.
  const std::string fromServer = "sctp packet from the server";
  ASSERT_EQ(SSL_write(server->ssl.get(), fromServer.data(), static_cast<int>(fromServer.size())),
            static_cast<int>(fromServer.size()));
  std::vector<std::string> got;
  const Bytes datagram = server->drain();
  EXPECT_EQ(layer.open(datagram, scratch,
                       [&](std::uint8_t type, std::span<const std::uint8_t> p) {
                         EXPECT_EQ(type, kDtlsApplicationData);
                         got.push_back(text(p));
                       }),
            0u);
  EXPECT_EQ(got, std::vector<std::string>{fromServer});

  // Three records of ours in one datagram, read by the server's OpenSSL one by one.
  Bytes sealed;
  for (const std::string& m : {std::string("one"), std::string("two"), std::string(1100, 'x')})
    ASSERT_TRUE(layer.seal(kDtlsApplicationData,
                           {reinterpret_cast<const std::uint8_t*>(m.data()), m.size()}, sealed));
  server->feed(sealed);
  std::vector<std::string> read;
  char buf[2048];
  for (int n; (n = SSL_read(server->ssl.get(), buf, sizeof buf)) > 0;) read.emplace_back(buf, n);
  EXPECT_EQ(read, (std::vector<std::string>{"one", "two", std::string(1100, 'x')}));

  // Our close_notify closes OpenSSL's end as its own would.
  static constexpr std::uint8_t kCloseNotify[] = {1, 0};
  Bytes alert;
  ASSERT_TRUE(layer.seal(kDtlsAlert, kCloseNotify, alert));
  server->feed(alert);
  const int n = SSL_read(server->ssl.get(), buf, sizeof buf);
  EXPECT_EQ(SSL_get_error(server->ssl.get(), n), SSL_ERROR_ZERO_RETURN);
}

TEST_P(Handshaken, DropsForgeriesReplaysOtherEpochsAndCutRecords) {
  auto c = exportDtlsKeys(client->ssl.get());
  auto s = exportDtlsKeys(server->ssl.get());
  ASSERT_TRUE(c && s);
  DtlsRecordLayer sender(*c, 5, std::nullopt);
  DtlsRecordLayer receiver(*s, 0, 3);  // records 0..3 count as received already
  auto record = [&](const std::string& m) {
    Bytes b;
    EXPECT_TRUE(sender.seal(kDtlsApplicationData,
                            {reinterpret_cast<const std::uint8_t*>(m.data()), m.size()}, b));
    return b;
  };
  std::vector<std::string> got;
  auto open = [&](const Bytes& b) {
    return receiver.open(
        b, scratch, [&](std::uint8_t, std::span<const std::uint8_t> p) { got.push_back(text(p)); });
  };
  const Bytes r5 = record("five"), r6 = record("six"), r7 = record("seven");
  EXPECT_EQ(open(r6), 0u);
  EXPECT_EQ(open(r5), 0u);  // late, within the window
  EXPECT_EQ(open(r6), 1u);  // a replay
  Bytes forged = r7;
  forged.back() ^= 1;  // the tag
  EXPECT_EQ(open(forged), 1u);
  Bytes flipped = r7;
  flipped[kDtlsHeaderSize + 9] ^= 0x80;  // the ciphertext
  EXPECT_EQ(open(flipped), 1u);
  Bytes otherVersion = r7;
  otherVersion[2] = 0xff;  // DTLS 1.0
  EXPECT_EQ(open(otherVersion), 1u);
  Bytes otherEpoch = r7;
  otherEpoch[4] = 0;  // epoch 0: a repeated handshake record, or forged
  EXPECT_EQ(open(otherEpoch), 1u);
  Bytes cut(r7.begin(), r7.end() - 1);  // length field beyond the datagram
  EXPECT_EQ(open(cut), 0u);
  EXPECT_EQ(open(r7), 0u);
  EXPECT_EQ(got, (std::vector<std::string>{"six", "five", "seven"}));

  // A record far behind the window is dropped; one far ahead moves it.
  DtlsRecordLayer ahead(*c, 200, std::nullopt);
  Bytes r200;
  ASSERT_TRUE(ahead.seal(kDtlsApplicationData, Bytes{1}, r200));
  EXPECT_EQ(open(r200), 0u);
  DtlsRecordLayer behind(*c, 100, std::nullopt);
  Bytes r100;
  ASSERT_TRUE(behind.seal(kDtlsApplicationData, Bytes{2}, r100));
  EXPECT_EQ(open(r100), 1u);

  // Nothing above 2^14 bytes fits one record.
  Bytes big(16385), out;
  EXPECT_FALSE(sender.seal(kDtlsApplicationData, big, out));
  EXPECT_TRUE(out.empty());
}

INSTANTIATE_TEST_SUITE_P(Suites, Handshaken,
                         ::testing::Values("ECDHE-ECDSA-AES128-GCM-SHA256",
                                           "ECDHE-ECDSA-AES256-GCM-SHA384",
                                           "ECDHE-ECDSA-CHACHA20-POLY1305"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

TEST(DtlsRecords, WalksTheRecordsOfADatagram) {
  const Bytes d = {22,   0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 7, 0, 2,   0xaa, 0xbb,
                   23,   0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1,   0xcc, 23,
                   0xfe, 0xfd, 0,    1, 0, 0, 0, 0, 1, 1, 0, 9, 0xdd};  // the last is cut
  std::vector<std::pair<int, std::uint64_t>> seen;
  forEachDtlsRecord(d, [&](const DtlsRecordHeader& r) {
    EXPECT_EQ(r.epoch, 1);
    seen.emplace_back(r.type, r.sequence);
  });
  EXPECT_EQ(seen, (std::vector<std::pair<int, std::uint64_t>>{{22, 7}, {23, 256}}));
}

}  // namespace
}  // namespace ifmesh::rtc
