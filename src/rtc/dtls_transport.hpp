#pragma once
// DTLS 1.2 over the ICE transport (RFC 8261/8842). OpenSSL runs the handshake: incoming datagrams
// are written to a memory BIO; outgoing records go straight to ICE through a custom BIO, each
// application record one datagram, handshake records packed up to the MTU (PackRecords). The
// peer is authenticated only by its certificate's SHA-256 fingerprint from the remote SDP.
//
// Once the handshake can no longer need OpenSSL, the records of epoch 1 move to DtlsRecordLayer
// and the SSL object is freed (~70 KiB per connection): the client at once (nothing reaches it
// that needs an answer: the server's last flight is the handshake's last), the server when the
// first application record of the client proves the client finished (until then a lost last
// flight of ours makes the client repeat its own, which OpenSSL answers). A cipher suite the
// record layer does not implement keeps OpenSSL for the connection's life.
// Loop thread only.
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rtc/certificate.hpp"
#include "rtc/dtls_record_layer.hpp"
#include "rtc/io_loop.hpp"
#include "rtc/ssl_handles.hpp"

namespace ifmesh::rtc {

SslCtxPtr makeDtlsContext(const Certificate& certificate);

class DtlsTransport {
 public:
  struct Callbacks {
    std::function<bool(const void*, std::size_t)> sendDatagram;
    std::function<void()> onConnected;
    std::function<void(const std::string&)> onFailed;
    std::function<void()> onClosed;  // close_notify from the peer
    std::function<void(const std::uint8_t*, std::size_t)> onData;
  };

  DtlsTransport(IoLoop& loop, SSL_CTX* ctx, std::vector<std::byte>& readScratch, bool isClient,
                std::vector<std::uint8_t> remoteFingerprint, Callbacks callbacks);
  ~DtlsTransport();
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;

  void start();  // begins the handshake (client sends ClientHello; server just waits)
  void receiveDatagram(const std::uint8_t* data, std::size_t length);
  bool send(const void* data, std::size_t length);
  void shutdown();  // sends close_notify and stops timers; no callbacks afterwards

  bool isClient() const { return isClient_; }
  bool connected() const { return connected_; }

  // OpenSSL C callbacks (the BIO method table is built outside the class).
  static int verifyPeer(int preverifyOk, X509_STORE_CTX* store);
  static int bioWrite(BIO* bio, const char* data, int length);
  static long bioCtrl(BIO* bio, int cmd, long num, void* ptr);

 private:
  void continueHandshake();
  void readApplicationData();
  void armRetransmitTimer();
  void fail(const std::string& reason);
  class PackRecords;
  void sendPacked();
  void takeOverRecords();
  void receiveRecords(const std::uint8_t* data, std::size_t length);
  void observeIncoming(const std::uint8_t* data, std::size_t length);
  void acceptedIncoming();
  bool sendRecord(std::uint8_t type, std::span<const std::uint8_t> data);
  void closedByPeer();  // close_notify: no callbacks after onClosed

  IoLoop& loop_;
  bool isClient_;
  std::vector<std::uint8_t> remoteFingerprint_;
  Callbacks callbacks_;
  SslPtr ssl_;
  BIO* inBio_ = nullptr;  // owned by ssl_
  IoLoop::Timer retransmitTimer_;
  IoLoop::Timer handshakeDeadline_;
  bool started_ = false;
  bool connected_ = false;
  bool finished_ = false;  // failed, closed or shut down
  bool fingerprintMatched_ = false;
  bool packing_ = false;                // inside PackRecords: records collect in packed_
  std::vector<char> packed_;            // at most one MTU
  std::vector<std::byte>& readBuffer_;  // shared, loop thread only (see Runtime::dtlsScratch)
  // While OpenSSL holds the records: the next epoch-1 sequence number it has not sent and the
  // highest the peer's records reached, for the record layer that takes over.
  std::uint64_t nextWriteSequence_ = 0;
  std::optional<std::uint64_t> highestReadSequence_;
  std::optional<std::uint64_t> datagramSequence_;  // of the datagram OpenSSL is reading
  bool peerSentData_ = false;
  std::unique_ptr<DtlsRecordLayer> records_;
};

}  // namespace ifmesh::rtc
