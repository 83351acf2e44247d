#include "rtc/runtime.hpp"

#include <usrsctp.h>

#include <cstdarg>
#include <cstdio>

#include "rtc/dtls_transport.hpp"
#include "rtc/sctp_transport.hpp"

namespace ifmesh::rtc {

namespace {

// usrsctp hands every outgoing SCTP packet here, always on the I/O thread (no usrsctp threads).
int onSctpOutput(void* addr, void* buffer, size_t length, uint8_t /*tos*/, uint8_t /*set_df*/) {
  auto* transport = Runtime::instance().findSctp(reinterpret_cast<std::uintptr_t>(addr));
  if (!transport) return 0;  // association already closed: drop, as usrsctp#405 requires
  transport->outputPacket(buffer, length);
  return 0;
}

constexpr std::chrono::milliseconds kSctpTick{10};

}  // namespace

Runtime& Runtime::instance() {
  static Runtime runtime;
  return runtime;
}

Runtime::Runtime()
    : loop_(std::make_unique<IoLoop>()),
      certificate_(Certificate::generate()),
      dtlsContext_(makeDtlsContext(certificate_)) {
  initUsrsctp();
}

Runtime::~Runtime() {
  loop_->invoke([this] { sctpTimer_.cancel(); });
  loop_.reset();
}

void Runtime::initUsrsctp() {
  usrsctp_init_nothreads(0, &onSctpOutput, nullptr);
  usrsctp_sysctl_set_sctp_ecn_enable(0);
  usrsctp_sysctl_set_sctp_pr_enable(1);
  // Values proven by other DataChannel stacks (see shared notes): bigger windows, fast SACKs,
  // short retransmission timers so one lost packet does not stall for seconds.
  usrsctp_sysctl_set_sctp_max_chunks_on_queue(10 * 1024);
  usrsctp_sysctl_set_sctp_initial_cwnd(10);
  usrsctp_sysctl_set_sctp_max_burst_default(10);
  usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);
  usrsctp_sysctl_set_sctp_rto_min_default(200);
  usrsctp_sysctl_set_sctp_rto_max_default(10000);
  usrsctp_sysctl_set_sctp_rto_initial_default(1000);
  usrsctp_sysctl_set_sctp_init_rto_max_default(10000);
  usrsctp_sysctl_set_sctp_init_rtx_max_default(5);
  usrsctp_sysctl_set_sctp_assoc_rtx_max_default(5);
  usrsctp_sysctl_set_sctp_path_rtx_max_default(5);
  usrsctp_sysctl_set_sctp_heartbeat_interval_default(10000);
  usrsctp_sysctl_set_sctp_sendspace(1024 * 1024);
  usrsctp_sysctl_set_sctp_recvspace(1024 * 1024);
}

std::uintptr_t Runtime::registerSctp(SctpTransport* transport) {
  std::uintptr_t id = nextSctpId_++;
  sctpRegistry_.emplace(id, transport);
  usrsctp_register_address(reinterpret_cast<void*>(id));
  updateSctpTimer();
  return id;
}

void Runtime::unregisterSctp(std::uintptr_t id) {
  if (sctpRegistry_.erase(id) == 0) return;
  usrsctp_deregister_address(reinterpret_cast<void*>(id));
  updateSctpTimer();
}

SctpTransport* Runtime::findSctp(std::uintptr_t id) const {
  auto it = sctpRegistry_.find(id);
  return it == sctpRegistry_.end() ? nullptr : it->second;
}

// usrsctp's clock only advances when we tell it; tick while any association exists so that
// retransmissions, delayed SACKs and heartbeats happen, and sleep otherwise.
void Runtime::updateSctpTimer() {
  if (sctpRegistry_.empty() || sctpTimer_.active()) return;
  lastSctpTickUs_ = g_get_monotonic_time();
  sctpTimer_ = loop_->addTimer(kSctpTick, [this] {
    std::int64_t now = g_get_monotonic_time();
    auto elapsedMs = static_cast<std::uint32_t>((now - lastSctpTickUs_) / 1000);
    lastSctpTickUs_ += static_cast<std::int64_t>(elapsedMs) * 1000;
    usrsctp_handle_timers(elapsedMs);
    if (sctpRegistry_.empty()) {
      sctpTimer_ =
          IoLoop::Timer();  // releases our handle; the source is removed by returning false
      return false;
    }
    return true;
  });
}

}  // namespace ifmesh::rtc
