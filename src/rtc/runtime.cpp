#include "rtc/runtime.hpp"

#include <usrsctp.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <utility>

#include "rtc/dtls_transport.hpp"
#include "rtc/sctp_checksum.hpp"
#include "rtc/sctp_transport.hpp"

namespace ifmesh::rtc {

namespace {

// usrsctp hands every outgoing SCTP packet here, on whichever thread made the usrsctp call: the
// owner loop for sends and received packets, loop 0 for timer-driven packets (retransmissions,
// delayed SACKs, heartbeats). One registry look-up: on the owner the packet goes out inline from
// usrsctp's buffer; a packet for another loop's association is copied and handed over.
int onSctpOutput(void* addr, void* buffer, size_t length, uint8_t /*tos*/, uint8_t /*set_df*/) {
  // usrsctp's checksum is offloaded to us (initUsrsctp); the buffer is its own copy of the packet.
  fillSctpChecksum(buffer, length);
  const auto* bytes = static_cast<const std::byte*>(buffer);
  Runtime::instance().withSctp(
      reinterpret_cast<std::uintptr_t>(addr),
      [&](SctpTransport& t) { t.outputPacket(bytes, length); },
      [&]() -> Runtime::SctpTask {
        return [packet = std::vector<std::byte>(bytes, bytes + length)](SctpTransport& t) {
          t.outputPacket(packet.data(), packet.size());
        };
      });
  return 0;  // association already closed: dropped, as usrsctp#405 requires
}

// usrsctp walks its whole callout list on every tick (a few timers per association), so the tick
// lengthens with the association count: 10 ms up to 1,000 associations, 40 ms from 4,000.
std::chrono::milliseconds sctpTick(std::size_t associations) {
  return std::chrono::milliseconds(std::clamp<std::size_t>(associations / 100, 10, 40));
}
constexpr std::size_t kMaxIoThreads = 4;
// An I/O thread's poll after a round with work (ContextDriver). Python agents in one process,
// 2026-12-07: echo RTT p50 203 -> 107 µs and CPU per round trip 236 -> 190 µs with 50 µs; 100 µs
// gained nothing more.
constexpr std::chrono::microseconds kDefaultSpin{50};

}  // namespace

Runtime& Runtime::instance() {
  static Runtime runtime;
  return runtime;
}

std::size_t Runtime::poolSize() {
  if (const char* env = std::getenv("IFMESH_IO_THREADS")) {
    long n = std::strtol(env, nullptr, 10);
    if (n >= 1 && n <= 64) return static_cast<std::size_t>(n);
  }
  std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  return std::min(cores, kMaxIoThreads);
}

std::chrono::microseconds Runtime::spinTime() {
  if (const char* env = std::getenv("IFMESH_IO_SPIN_US")) {
    char* end = nullptr;
    long us = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && us >= 0 && us <= 10'000) return std::chrono::microseconds(us);
  }
  return kDefaultSpin;
}

Runtime::Runtime()
    : certificate_(Certificate::generate()), dtlsContext_(makeDtlsContext(certificate_)) {
  const auto spin = spinTime();
  for (std::size_t i = 0, n = poolSize(); i < n; ++i)
    loops_.push_back(std::make_unique<IoLoop>(i, spin));
  initUsrsctp();
}

Runtime::~Runtime() {
  loops_[0]->invoke([this] { sctpTimer_.cancel(); });
  loops_.clear();
}

void Runtime::initUsrsctp() {
  // Each socket gets a hash table for its associations (256 buckets, 2 KiB, zeroed); ours have one
  // association each. Must be set before usrsctp_init*.
  usrsctp_tunable_set_sctp_pcbtblsize(8);
  usrsctp_init_nothreads(0, &onSctpOutput, nullptr);
  // Packets come and go inside DTLS records, whose AEAD tag proves each one unaltered: usrsctp
  // neither checks the checksum of what arrives nor computes it for what leaves; onSctpOutput
  // fills it in, faster (rtc/sctp_checksum.hpp).
  usrsctp_enable_crc32c_offload();
  usrsctp_sysctl_set_sctp_ecn_enable(0);
  // No address reconfiguration (ASCONF) and no SCTP-AUTH, as libwebrtc and Firefox: DTLS already
  // authenticates every packet, a DataChannel association has one path, and each enabled
  // extension is code a peer can reach. AUTH also cost each association ~0.8 KiB of chunk and
  // HMAC lists. ASCONF goes first: usrsctp keeps AUTH while ASCONF needs it.
  usrsctp_sysctl_set_sctp_asconf_enable(0);
  usrsctp_sysctl_set_sctp_auth_enable(0);
  usrsctp_sysctl_set_sctp_pr_enable(1);
  // Every abort usrsctp sends carries a cause whose text names its reason and source line
  // (Protocol Violation, RFC 4960 3.3.10.13): without a code it sends none, and the peer, and
  // this side's close reason, learn nothing (rtc/sctp_abort_reason.hpp).
  usrsctp_sysctl_set_sctp_diag_info_code(13);
  // Values proven by other DataChannel stacks (see shared notes): bigger windows, fast SACKs,
  // short retransmission timers so one lost packet does not stall for seconds.
  usrsctp_sysctl_set_sctp_max_chunks_on_queue(10 * 1024);
  usrsctp_sysctl_set_sctp_initial_cwnd(10);
  usrsctp_sysctl_set_sctp_max_burst_default(10);
  usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);
  usrsctp_sysctl_set_sctp_rto_min_default(200);
  // Backoff capped at 3 s, as libwebrtc caps its SCTP timers: at 10 s a connection whose
  // handshake or first data met repeated loss sat 10-20 s before the next retransmission
  // (Fault.ConnectionsFormThroughALossyLink under 10 % loss). A path slower than 3 s per round
  // trip is not one agents can use anyway.
  usrsctp_sysctl_set_sctp_rto_max_default(3000);
  usrsctp_sysctl_set_sctp_rto_initial_default(1000);
  usrsctp_sysctl_set_sctp_init_rto_max_default(3000);
  usrsctp_sysctl_set_sctp_init_rtx_max_default(5);
  usrsctp_sysctl_set_sctp_assoc_rtx_max_default(5);
  // usrsctp aborts an association once one chunk has been sent this many times (30 by default;
  // RFC 4960 has no such limit). Any SACK resets the association's error count, so this is what
  // ends an association whose peer answers but never receives one chunk; it must not end one
  // that is recovering from heavy loss. With a 4 KiB UDP receive buffer on loopback
  // (Soak.DroppedDatagramsSlowTransfersButNeverStopThem, 4 transfers) fast retransmissions of
  // one chunk are lost again and again (4,222 of 7,770 were repeats in one run): the test
  // aborted in 5 of 28 runs at 30 and in 3 of 20 at 40, in none of 24 at 60 or without a limit.
  usrsctp_sysctl_set_sctp_max_retran_chunk(100);
  usrsctp_sysctl_set_sctp_path_rtx_max_default(5);
  usrsctp_sysctl_set_sctp_heartbeat_interval_default(10000);
  usrsctp_sysctl_set_sctp_sendspace(1024 * 1024);
  usrsctp_sysctl_set_sctp_recvspace(1024 * 1024);
}

std::uintptr_t Runtime::registerSctp(SctpTransport* transport, IoLoop& owner) {
  std::uintptr_t id;
  bool startTimer = false;
  {
    std::lock_guard lock(sctpMutex_);
    id = nextSctpId_++;
    sctpRegistry_.emplace(id, SctpEntry{transport, &owner});
    startTimer = !std::exchange(sctpTimerRunning_, true);
  }
  usrsctp_register_address(reinterpret_cast<void*>(id));
  if (startTimer) loops_[0]->post([this] { startSctpTimer(); });
  return id;
}

void Runtime::unregisterSctp(std::uintptr_t id) {
  {
    std::lock_guard lock(sctpMutex_);
    if (sctpRegistry_.erase(id) == 0) return;
  }
  usrsctp_deregister_address(reinterpret_cast<void*>(id));
}

std::uint16_t Runtime::nextSctpPort() {
  // usrsctp hashes endpoints by port into sctp_hashtblsize (1,024) buckets: this many distinct
  // ports give every bucket its own, and 5000 stays the first port, as other stacks expect.
  constexpr std::uint32_t kSpan = 4096;
  return static_cast<std::uint16_t>(5000 +
                                    nextSctpPort_.fetch_add(1, std::memory_order_relaxed) % kSpan);
}

SctpTransport* Runtime::findSctp(std::uintptr_t id) const {
  std::shared_lock lock(sctpMutex_);
  auto it = sctpRegistry_.find(id);
  if (it == sctpRegistry_.end() || !it->second.owner->isLoopThread()) return nullptr;
  return it->second.transport;
}

void Runtime::withSctp(std::uintptr_t id, const SctpTask& fn,
                       const std::function<SctpTask()>& detach) {
  IoLoop* owner = nullptr;
  SctpTransport* transport = nullptr;
  {
    std::shared_lock lock(sctpMutex_);
    auto it = sctpRegistry_.find(id);
    if (it == sctpRegistry_.end()) return;
    owner = it->second.owner;
    transport = it->second.transport;
  }
  // Inline on the owner: only the owner thread (this one) destroys the transport.
  if (owner->isLoopThread()) return fn(*transport);
  owner->post([this, id, task = detach ? detach() : fn] {
    if (auto* t = findSctp(id)) task(*t);
  });
}

// usrsctp's clock only advances when we tell it; tick while any association exists so that
// retransmissions, delayed SACKs and heartbeats happen, and sleep otherwise. Loop 0 only.
void Runtime::startSctpTimer() {
  lastSctpTickUs_ = g_get_monotonic_time();
  sctpTimer_ = loops_[0]->addTimer(sctpTick(0), [this] {
    std::int64_t now = g_get_monotonic_time();
    auto elapsedMs = static_cast<std::uint32_t>((now - lastSctpTickUs_) / 1000);
    lastSctpTickUs_ += static_cast<std::int64_t>(elapsedMs) * 1000;
    usrsctp_handle_timers(elapsedMs);
    std::lock_guard lock(sctpMutex_);
    if (sctpRegistry_.empty()) {
      sctpTimerRunning_ = false;
      sctpTimer_ = IoLoop::Timer();  // releases our handle; returning false removes the source
      return false;
    }
    sctpTimer_.setInterval(sctpTick(sctpRegistry_.size()));
    return true;
  });
}

}  // namespace ifmesh::rtc
