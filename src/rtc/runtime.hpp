#pragma once
// The process-wide WebRTC runtime: the one I/O loop, the DTLS identity and context, and the one
// usrsctp stack (usrsctp has global state; it is initialised exactly once, here, and its timers are
// driven from the I/O loop). This is the only global mutable state in ifmesh.
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "rtc/certificate.hpp"
#include "rtc/io_loop.hpp"
#include "rtc/ssl_handles.hpp"

namespace ifmesh::rtc {

class SctpTransport;

class Runtime {
 public:
  static Runtime& instance();

  IoLoop& loop() { return *loop_; }
  const Certificate& certificate() const { return certificate_; }
  SSL_CTX* dtlsContext() const { return dtlsContext_.get(); }

  // usrsctp associations are addressed by an opaque id (the AF_CONN "address"). The registry maps
  // ids to live transports so late callbacks for closed associations find nothing. Loop thread
  // only.
  std::uintptr_t registerSctp(SctpTransport* transport);
  void unregisterSctp(std::uintptr_t id);
  SctpTransport* findSctp(std::uintptr_t id) const;

  // Scratch space for reading DTLS records and SCTP messages. Reads happen only on the loop thread
  // and each is consumed before the next begins, so one buffer serves every connection (a
  // buffer per connection cost 128 KiB each: 1.2 GiB for a 100-agent mesh).
  std::vector<std::byte>& dtlsScratch() { return dtlsScratch_; }
  std::vector<std::byte>& sctpScratch() { return sctpScratch_; }

 private:
  Runtime();
  ~Runtime();
  void initUsrsctp();
  void updateSctpTimer();

  std::unique_ptr<IoLoop> loop_;
  Certificate certificate_;
  SslCtxPtr dtlsContext_;
  std::unordered_map<std::uintptr_t, SctpTransport*> sctpRegistry_;
  std::uintptr_t nextSctpId_ = 1;
  IoLoop::Timer sctpTimer_;
  std::vector<std::byte> dtlsScratch_ = std::vector<std::byte>(1 << 16);
  std::vector<std::byte> sctpScratch_ = std::vector<std::byte>(1 << 16);
  std::int64_t lastSctpTickUs_ = 0;
};

}  // namespace ifmesh::rtc
