#include "rtc/dtls_transport.hpp"

#include <openssl/err.h>

#include <algorithm>

#include "ifmesh/error.hpp"

namespace ifmesh::rtc {

namespace {

// Below the IPv6 minimum MTU with room for UDP/IP headers (RFC 8261 guidance; Chromium uses 1200).
constexpr long kDtlsMtu = 1200;
constexpr std::chrono::seconds kHandshakeTimeout{10};
// Loopback and LAN peers answer in microseconds; the RFC's 1 s first retransmission would turn one
// lost flight into a 1 s setup stall (see shared/notes/datachannel-pitfalls.md).
constexpr unsigned kInitialRetransmitUs = 100'000;
constexpr unsigned kMaxRetransmitUs = 2'000'000;

int transportIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

std::string sslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown TLS error" : out;
}

unsigned retransmitTimer(SSL*, unsigned previousUs) {
  return previousUs == 0 ? kInitialRetransmitUs : std::min(previousUs * 2, kMaxRetransmitUs);
}

BIO_METHOD* datagramBioMethod();

}  // namespace

// Around the OpenSSL calls that write handshake records, the records go out packed into as few
// datagrams as the MTU allows: OpenSSL packs a first flight itself but writes a retransmitted one
// record by record, so a lost client flight came back as 5 datagrams (certificate, key exchange,
// certificate verify, change cipher spec, finished) and every one of them had to get through.
class DtlsTransport::PackRecords {
 public:
  explicit PackRecords(DtlsTransport& t) : t_(t) { t_.packing_ = true; }
  ~PackRecords() {
    t_.packing_ = false;
    t_.sendPacked();
  }
  PackRecords(const PackRecords&) = delete;
  PackRecords& operator=(const PackRecords&) = delete;

 private:
  DtlsTransport& t_;
};

void DtlsTransport::sendPacked() {
  if (packed_.empty()) return;
  if (callbacks_.sendDatagram) callbacks_.sendDatagram(packed_.data(), packed_.size());
  packed_.clear();
  if (connected_) std::vector<char>().swap(packed_);  // later flights are rare: free the buffer
}

SslCtxPtr makeDtlsContext(const Certificate& certificate) {
  SslCtxPtr ctx(SSL_CTX_new(DTLS_method()));
  if (!ctx) throw Error(Errc::Internal, "SSL_CTX_new: " + sslErrors());
  SSL_CTX_set_min_proto_version(ctx.get(), DTLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx.get(), DTLS1_2_VERSION);
  // No session tickets: WebRTC never resumes a DTLS session (each connection has fresh
  // fingerprints), and the server's ticket was ~480-550 bytes in its last flight, one more
  // datagram to lose on every handshake.
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_QUERY_MTU | SSL_OP_NO_RENEGOTIATION |
                                     SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET);
  if (SSL_CTX_use_certificate(ctx.get(), certificate.x509()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx.get(), certificate.key()) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1)
    throw Error(Errc::Internal, "DTLS certificate setup: " + sslErrors());
  // Chromium's cipher suites for DTLS 1.2 with ECDSA certificates.
  SSL_CTX_set_cipher_list(ctx.get(),
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:"
                          "ECDHE-ECDSA-AES256-GCM-SHA384");
  SSL_CTX_set1_groups_list(ctx.get(), "P-256:X25519");
  // Self-signed peers: the chain is never trusted; the fingerprint check in the callback decides.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_read_ahead(ctx.get(), 1);
  return ctx;
}

DtlsTransport::DtlsTransport(IoLoop& loop, SSL_CTX* ctx, std::vector<std::byte>& readScratch,
                             bool isClient, std::vector<std::uint8_t> remoteFingerprint,
                             Callbacks callbacks)
    : loop_(loop),
      isClient_(isClient),
      remoteFingerprint_(std::move(remoteFingerprint)),
      callbacks_(std::move(callbacks)),
      ssl_(SSL_new(ctx)),
      readBuffer_(readScratch) {
  if (!ssl_) throw Error(Errc::Internal, "SSL_new: " + sslErrors());
  SSL_set_ex_data(ssl_.get(), transportIndex(), this);
  SSL_set_verify(ssl_.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                 &DtlsTransport::verifyPeer);
  inBio_ = BIO_new(BIO_s_mem());
  BIO* outBio = BIO_new(datagramBioMethod());
  if (!inBio_ || !outBio) throw Error(Errc::Internal, "BIO_new failed");
  BIO_set_mem_eof_return(inBio_, -1);
  BIO_set_data(outBio, this);
  BIO_set_init(outBio, 1);
  SSL_set_bio(ssl_.get(), inBio_, outBio);  // ssl_ owns both
  SSL_set_mtu(ssl_.get(), kDtlsMtu);
  DTLS_set_link_mtu(ssl_.get(), kDtlsMtu);
  DTLS_set_timer_cb(ssl_.get(), &retransmitTimer);
  if (isClient_)
    SSL_set_connect_state(ssl_.get());
  else
    SSL_set_accept_state(ssl_.get());
}

DtlsTransport::~DtlsTransport() {
  finished_ = true;
}

void DtlsTransport::start() {
  if (started_ || finished_) return;
  started_ = true;
  handshakeDeadline_ = loop_.addTimer(
      std::chrono::duration_cast<std::chrono::milliseconds>(kHandshakeTimeout), [this] {
        if (!connected_) fail("DTLS handshake timed out");
        return false;
      });
  continueHandshake();
}

void DtlsTransport::receiveDatagram(const std::uint8_t* data, std::size_t length) {
  if (finished_ || length == 0) return;
  // RFC 7983 demultiplexing: DTLS records start with 20..63. Anything else is not ours.
  if (data[0] < 20 || data[0] > 63) return;
  if (records_) return receiveRecords(data, length);
  observeIncoming(data, length);
  BIO_write(inBio_, data, static_cast<int>(length));
  if (!connected_) {
    started_ = true;  // the server's handshake is driven by the client's first flight
    if (!handshakeDeadline_.active())
      handshakeDeadline_ = loop_.addTimer(
          std::chrono::duration_cast<std::chrono::milliseconds>(kHandshakeTimeout), [this] {
            if (!connected_) fail("DTLS handshake timed out");
            return false;
          });
    continueHandshake();
  }
  if (connected_ && !records_) readApplicationData();
  // A stale record left behind (e.g. after failure) must not accumulate.
  if (finished_ && inBio_) BIO_reset(inBio_);
}

// The highest epoch-1 sequence number of a datagram handed to OpenSSL; it counts as received
// only once OpenSSL accepted the datagram (a finished handshake, application data), so that a
// forged record cannot move the replay window of the record layer that takes over.
void DtlsTransport::observeIncoming(const std::uint8_t* data, std::size_t length) {
  datagramSequence_.reset();
  forEachDtlsRecord({data, length}, [this](const DtlsRecordHeader& r) {
    if (r.epoch == 1 && (!datagramSequence_ || r.sequence > *datagramSequence_))
      datagramSequence_ = r.sequence;
  });
}

void DtlsTransport::acceptedIncoming() {
  if (datagramSequence_ && (!highestReadSequence_ || *datagramSequence_ > *highestReadSequence_))
    highestReadSequence_ = datagramSequence_;
  datagramSequence_.reset();
}

void DtlsTransport::takeOverRecords() {
  if (records_ || finished_ || !ssl_ || BIO_ctrl_pending(inBio_) != 0) return;
  std::optional<DtlsKeys> keys = exportDtlsKeys(ssl_.get());
  if (!keys) return;  // a suite the record layer does not implement: OpenSSL goes on
  try {
    records_ = std::make_unique<DtlsRecordLayer>(*keys, nextWriteSequence_, highestReadSequence_);
  } catch (const Error&) {
    return;
  }
  OPENSSL_cleanse(keys->writeKey.data(), keys->writeKey.size());
  OPENSSL_cleanse(keys->readKey.data(), keys->readKey.size());
  ssl_.reset();  // frees both BIOs
  inBio_ = nullptr;
  std::vector<char>().swap(packed_);
}

void DtlsTransport::receiveRecords(const std::uint8_t* data, std::size_t length) {
  records_->open({data, length}, readBuffer_,
                 [this](std::uint8_t type, std::span<const std::uint8_t> plain) {
                   if (finished_) return;
                   if (type == kDtlsApplicationData) {
                     if (callbacks_.onData && !plain.empty())
                       callbacks_.onData(plain.data(), plain.size());
                   } else if (type == kDtlsAlert && plain.size() == 2) {
                     if (plain[1] == 0) {  // close_notify
                       closedByPeer();
                     } else if (plain[0] == 2) {
                       fail("DTLS fatal alert from the peer: " + std::to_string(plain[1]));
                     }
                   }
                   // Handshake and change cipher spec records: a repeated last flight of a
                   // handshake that is over on both ends.
                 });
}

void DtlsTransport::continueHandshake() {
  if (finished_ || connected_) return;
  ERR_clear_error();
  int ret;
  {
    PackRecords pack(*this);
    ret = SSL_do_handshake(ssl_.get());
  }
  if (ret == 1) {
    if (!fingerprintMatched_) return fail("peer certificate fingerprint was not verified");
    connected_ = true;
    retransmitTimer_.cancel();
    handshakeDeadline_.cancel();
    acceptedIncoming();
    if (isClient_) takeOverRecords();
    if (callbacks_.onConnected) callbacks_.onConnected();
    return;
  }
  int err = SSL_get_error(ssl_.get(), ret);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    armRetransmitTimer();
    return;
  }
  if (!fingerprintMatched_ && SSL_get_verify_result(ssl_.get()) != X509_V_OK)
    return fail("DTLS handshake failed: remote certificate fingerprint mismatch");
  fail("DTLS handshake failed: " + sslErrors());
}

void DtlsTransport::armRetransmitTimer() {
  timeval tv{};
  if (DTLSv1_get_timeout(ssl_.get(), &tv) != 1) return;
  auto ms = std::chrono::milliseconds(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
  retransmitTimer_ = loop_.addTimer(ms, [this] {
    if (finished_ || connected_) return false;
    int timedOut;
    {
      PackRecords pack(*this);
      timedOut = DTLSv1_handle_timeout(ssl_.get());
    }
    if (timedOut < 0) {
      fail("DTLS handshake retransmissions exhausted");
      return false;
    }
    // Re-arm from OpenSSL's (doubled) timeout rather than our fixed interval.
    armRetransmitTimer();
    return false;
  });
}

void DtlsTransport::readApplicationData() {
  while (!finished_) {
    ERR_clear_error();
    int n;
    {
      PackRecords pack(*this);  // a peer's repeated last flight makes OpenSSL resend ours here
      n = SSL_read(ssl_.get(), readBuffer_.data(), static_cast<int>(readBuffer_.size()));
    }
    if (n > 0) {
      peerSentData_ = true;
      acceptedIncoming();
      if (callbacks_.onData)
        callbacks_.onData(reinterpret_cast<const std::uint8_t*>(readBuffer_.data()),
                          static_cast<std::size_t>(n));
      continue;
    }
    int err = SSL_get_error(ssl_.get(), n);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      // A server takes over once the client finished: no flight of ours is left to repeat.
      if (isClient_ || peerSentData_) takeOverRecords();
      return;
    }
    if (err == SSL_ERROR_ZERO_RETURN) return closedByPeer();
    // A corrupt record is dropped by DTLS itself; anything reaching here is fatal.
    return fail("DTLS read failed: " + sslErrors());
  }
}

bool DtlsTransport::send(const void* data, std::size_t length) {
  if (!connected_ || finished_) return false;
  if (records_)
    return sendRecord(kDtlsApplicationData, {static_cast<const std::uint8_t*>(data), length});
  ERR_clear_error();
  int n = SSL_write(ssl_.get(), data, static_cast<int>(length));
  return n == static_cast<int>(length);
}

// One record of ours as one datagram, sealed into a buffer of the thread: the datagram is handed
// on (and copied) before return.
bool DtlsTransport::sendRecord(std::uint8_t type, std::span<const std::uint8_t> data) {
  thread_local std::vector<std::uint8_t> record;
  record.clear();
  if (!records_->seal(type, data, record)) return false;
  if (callbacks_.sendDatagram) callbacks_.sendDatagram(record.data(), record.size());
  return true;
}

void DtlsTransport::closedByPeer() {
  finished_ = true;
  retransmitTimer_.cancel();
  if (callbacks_.onClosed) callbacks_.onClosed();
}

void DtlsTransport::shutdown() {
  if (finished_) return;
  if (records_) {
    static constexpr std::uint8_t kCloseNotify[] = {1, 0};  // warning, close_notify
    sendRecord(kDtlsAlert, kCloseNotify);
  } else if (connected_) {
    ERR_clear_error();
    SSL_shutdown(ssl_.get());
  }
  finished_ = true;
  retransmitTimer_.cancel();
  handshakeDeadline_.cancel();
}

void DtlsTransport::fail(const std::string& reason) {
  if (finished_) return;
  finished_ = true;
  retransmitTimer_.cancel();
  handshakeDeadline_.cancel();
  if (callbacks_.onFailed) callbacks_.onFailed(reason);
}

int DtlsTransport::verifyPeer(int /*preverifyOk*/, X509_STORE_CTX* store) {
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* self = static_cast<DtlsTransport*>(SSL_get_ex_data(ssl, transportIndex()));
  if (!self) return 0;
  // Only the leaf matters: WebRTC certificates are self-signed and pinned by fingerprint.
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
  X509* cert = X509_STORE_CTX_get_current_cert(store);
  if (!cert || self->remoteFingerprint_.empty()) return 0;
  bool match = certificateFingerprint(cert) == self->remoteFingerprint_;
  self->fingerprintMatched_ = match;
  if (match) X509_STORE_CTX_set_error(store, X509_V_OK);
  return match ? 1 : 0;
}

int DtlsTransport::bioWrite(BIO* bio, const char* data, int length) {
  auto* self = static_cast<DtlsTransport*>(BIO_get_data(bio));
  if (!self || length <= 0) return length;
  forEachDtlsRecord({reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(length)},
                    [self](const DtlsRecordHeader& r) {
                      if (r.epoch == 1 && r.sequence + 1 > self->nextWriteSequence_)
                        self->nextWriteSequence_ = r.sequence + 1;
                    });
  if (self->packing_) {
    if (self->packed_.size() + static_cast<std::size_t>(length) > kDtlsMtu) self->sendPacked();
    self->packed_.insert(self->packed_.end(), data, data + length);
    return length;
  }
  if (self->callbacks_.sendDatagram) {
    self->callbacks_.sendDatagram(data, static_cast<std::size_t>(length));
  }
  // A datagram lost locally is like one lost on the wire: DTLS retransmits, SCTP recovers.
  return length;
}

long DtlsTransport::bioCtrl(BIO*, int cmd, long, void*) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
      return kDtlsMtu;
    case BIO_CTRL_WPENDING:
    case BIO_CTRL_PENDING:
      return 0;
    default:
      return 0;
  }
}

namespace {

BIO_METHOD* datagramBioMethod() {
  // Created once and never modified: an immutable method table, not shared state.
  static const BioMethodPtr method = [] {
    BioMethodPtr m(BIO_meth_new(BIO_TYPE_SOURCE_SINK | BIO_get_new_index(), "ifmesh-ice"));
    BIO_meth_set_write(m.get(), &DtlsTransport::bioWrite);
    BIO_meth_set_ctrl(m.get(), &DtlsTransport::bioCtrl);
    return m;
  }();
  return method.get();
}

}  // namespace

}  // namespace ifmesh::rtc
