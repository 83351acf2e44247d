#pragma once
// The process-wide WebRTC runtime: the pool of I/O loops, the DTLS identity and context, and the
// one usrsctp stack (usrsctp has global state; it is initialised exactly once, here, and its timers
// are driven from I/O loop 0). This is the only global mutable state in ifmesh.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "rtc/certificate.hpp"
#include "rtc/io_loop.hpp"
#include "rtc/log.hpp"
#include "rtc/ssl_handles.hpp"

namespace ifmesh::rtc {

class SctpTransport;

class Runtime {
 public:
  static Runtime& instance();

  std::size_t loopCount() const { return loops_.size(); }
  // The loop with this index (modulo the pool size).
  IoLoop& loop(std::size_t index) { return *loops_[index % loops_.size()]; }
  // A loop for a new owner: round-robin, so owners spread over the cores.
  IoLoop& nextLoop() { return loop(nextLoop_.fetch_add(1, std::memory_order_relaxed)); }
  const Certificate& certificate() const { return certificate_; }
  // A local SCTP port for a new association. usrsctp finds the endpoint of a packet that has no
  // verification tag yet (INIT) and checks a bind by walking the endpoints bound to the same
  // port, each under its lock; with every association on port 5000 (WebRTC's customary port),
  // forming a 100-agent mesh walked up to 9,900 endpoints per INIT and per bind. Ports are
  // announced in the SDP (a=sctp-port), so each side may use its own. Thread-safe.
  std::uint16_t nextSctpPort();
  SSL_CTX* dtlsContext() const { return dtlsContext_.get(); }

  // usrsctp associations are addressed by an opaque id (the AF_CONN "address"). The registry maps
  // ids to live transports and the loop that owns each, so late callbacks for closed associations
  // find nothing and callbacks raised on another loop reach the owner. Thread-safe.
  std::uintptr_t registerSctp(SctpTransport* transport, IoLoop& owner);
  void unregisterSctp(std::uintptr_t id);
  using SctpTask = std::function<void(SctpTransport&)>;
  // Runs fn(transport) on the owner loop: inline when called there, else posted (and skipped if
  // the association is gone by then); one registry look-up either way. A fn that borrows the
  // caller's data passes `detach`, which makes the owning task to post, so the inline path
  // copies nothing.
  void withSctp(std::uintptr_t id, const SctpTask& fn,
                const std::function<SctpTask()>& detach = nullptr);

 private:
  // Owner loop thread only: the live transport, or null.
  SctpTransport* findSctp(std::uintptr_t id) const;
  struct SctpEntry {
    SctpTransport* transport;
    IoLoop* owner;
  };

  Runtime();
  ~Runtime();
  void initUsrsctp();
  void startSctpTimer();
  static std::size_t poolSize();
  static std::chrono::microseconds spinTime();

  // First in, last out: libnice logs until its last agent on the loops is gone.
  ::ifmesh::detail::LibniceLogRoute logRoute_;
  std::vector<std::unique_ptr<IoLoop>> loops_;
  std::atomic<std::size_t> nextLoop_{0};
  Certificate certificate_;
  SslCtxPtr dtlsContext_;
  // Every SCTP packet and upcall looks its association up here, from both I/O threads; only
  // connection setup and teardown write. A plain mutex made the two threads wait on each other
  // (futex calls) several thousand times a second in a 100-agent mesh.
  mutable std::shared_mutex sctpMutex_;
  std::unordered_map<std::uintptr_t, SctpEntry> sctpRegistry_;
  std::uintptr_t nextSctpId_ = 1;
  std::atomic<std::uint32_t> nextSctpPort_{0};
  bool sctpTimerRunning_ = false;
  IoLoop::Timer sctpTimer_;  // loop 0 only
  std::int64_t lastSctpTickUs_ = 0;
};

}  // namespace ifmesh::rtc
