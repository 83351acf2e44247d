#pragma once
// DTLS 1.2 over the ICE transport (RFC 8261/8842). Incoming datagrams are written to a memory BIO;
// outgoing records go straight to ICE through a custom BIO: each application record is one
// datagram, handshake records are packed up to the MTU (PackRecords). The
// peer is authenticated only by its certificate's SHA-256 fingerprint from the remote SDP.
// Loop thread only.
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "rtc/certificate.hpp"
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
};

}  // namespace ifmesh::rtc
