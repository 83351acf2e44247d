#pragma once
// SCTP over DTLS (RFC 8261) on usrsctp in AF_CONN mode: usrsctp builds SCTP packets, we carry them
// in DTLS records. Both sides connect (simultaneous open) from port 5000 by default.
//
// Threads: everything runs on the I/O loop except enqueue()/enqueueReset(), which any thread may
// call; they append to a mutex-protected send queue that the loop drains (see io_loop.hpp).
#include <usrsctp.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ifmesh/rtc/types.hpp"
#include "lazy_deque.hpp"
#include "rtc/io_loop.hpp"
#include "rtc/sctp_progress_watch.hpp"

namespace ifmesh::rtc {

class Runtime;

struct SctpSendOptions {
  bool ordered = true;
  enum class Policy { Reliable, MaxRetransmits, MaxLifetimeMs } policy = Policy::Reliable;
  std::uint32_t value = 0;
};

class SctpTransport : public std::enable_shared_from_this<SctpTransport> {
 public:
  struct Callbacks {
    std::function<void(const void*, std::size_t)> sendPacket;  // into DTLS
    std::function<void()> onConnected;
    std::function<void(const std::string&)> onClosed;
    std::function<void(std::uint16_t, std::uint32_t, std::vector<std::byte>&&)> onMessage;
    std::function<void(std::uint16_t, const std::string&)> onStreamError;
    std::function<void(std::uint16_t)> onIncomingReset;
    std::function<void(std::uint16_t, std::uint32_t, std::size_t)> onSent;  // stream, ppid, bytes
    // The association stopped making progress with data outstanding (see SctpProgressWatch); it
    // is shut down before this runs.
    std::function<void(const std::string&)> onStalled;
  };

  static std::shared_ptr<SctpTransport> create(Runtime& runtime, IoLoop& loop,
                                               std::uint16_t localPort, std::uint16_t remotePort,
                                               std::size_t maxReceiveSize, std::uint16_t streams,
                                               std::uint32_t heartbeatIntervalMs,
                                               Callbacks callbacks);
  ~SctpTransport();
  SctpTransport(const SctpTransport&) = delete;
  SctpTransport& operator=(const SctpTransport&) = delete;

  void connect();
  void receivePacket(const std::uint8_t* data, std::size_t length);
  void outputPacket(const void* data, std::size_t length);  // usrsctp conn_output
  void shutdown();                                          // ABORT; no callbacks afterwards

  // Any thread. The message is sent exactly as queued (all or nothing, in queue order). An urgent
  // one does not wait for the send window, nor does anything queued before it.
  void enqueue(std::uint16_t stream, std::uint32_t ppid, std::vector<std::byte> data,
               SctpSendOptions options, bool urgent = false);
  // Any thread. Resets our outgoing stream once everything queued before it has been sent.
  void enqueueReset(std::uint16_t stream);

  bool connected() const { return connected_; }
  // Streams we may send on, as negotiated (the smaller of ours and the peer's inbound limit).
  std::uint16_t outboundStreams() const { return outboundStreams_; }
  std::optional<SctpAssociationStats> associationStats();
  std::uint64_t bytesQueuedTotal() const { return bytesQueuedTotal_; }
  // Any thread. Message bytes the peer has acknowledged since the association opened: what
  // usrsctp was handed less what it still holds. Tracked while a send window is set.
  std::uint64_t bytesAcknowledged() const { return bytesAcknowledged_; }
  // Any thread. The most bytes usrsctp may hold for this association, unsent or unacknowledged,
  // before flush() stops handing it messages (they wait in our queue, counted in their
  // channels' bufferedAmount); 0: up to its whole send buffer. A message enters when it fits in
  // what the window leaves, or alone when usrsctp holds nothing, so the window never refuses a
  // message for good; urgent ones (enqueue) and what waits before them do not wait for it.
  void setSendWindow(std::size_t bytes);
  // Loop thread. Bytes usrsctp holds for the association: queued, or sent and not yet
  // acknowledged.
  std::size_t heldBytes();

 private:
  SctpTransport(Runtime& runtime, IoLoop& loop, std::uint16_t localPort, std::uint16_t remotePort,
                std::size_t maxReceiveSize, std::uint16_t streams,
                std::uint32_t heartbeatIntervalMs, Callbacks callbacks);
  void open();
  static void onUpcall(struct socket* sock, void* arg, int flags);
  void scheduleProcessing();
  void processEvents();
  void readAll();
  void flush();
  void postFlush();
  bool trySendReset(std::uint16_t stream);
  void handleNotification(const std::byte* data, std::size_t length);
  void closeWith(const std::string& reason);
  void watchProgress();
  void noteAcknowledged();
  bool checkProgress();

  struct Outgoing {
    std::uint16_t stream;
    std::uint32_t ppid;
    std::vector<std::byte> data;
    SctpSendOptions options;
    bool isReset = false;
    bool urgent = false;
  };

  Runtime& runtime_;
  IoLoop& loop_;
  std::uint16_t localPort_;
  std::uint16_t remotePort_;
  std::size_t maxReceiveSize_;
  std::uint16_t streams_;
  std::uint32_t heartbeatIntervalMs_;  // 0: the stack-wide default
  Callbacks callbacks_;
  struct socket* sock_ = nullptr;
  std::uintptr_t id_ = 0;
  bool connected_ = false;
  std::uint16_t outboundStreams_ = 0;
  bool closed_ = false;
  bool inReceive_ = false;
  bool processingPosted_ = false;
  bool flushing_ = false;

  std::mutex queueMutex_;
  LazyDeque<Outgoing> queue_;
  std::size_t urgentQueued_ = 0;  // urgent messages in queue_ (guarded by queueMutex_)
  std::atomic<bool> flushPosted_{false};
  std::atomic<std::uint64_t> bytesQueuedTotal_{0};
  std::atomic<std::size_t> sendWindow_{0};
  std::uint64_t bytesHanded_ = 0;  // loop thread: message bytes usrsctp accepted
  std::atomic<std::uint64_t> bytesAcknowledged_{0};
  bool windowLimited_ = false;  // flush() stopped at the window: resume when a SACK frees it
  std::set<std::uint16_t> pendingResets_;  // loop thread: resets refused while one was in flight

  std::map<std::uint16_t, std::vector<std::byte>> partial_;  // messages arriving in pieces
  std::set<std::uint16_t> discarding_;                       // oversize message being skipped
  std::vector<std::byte> notification_;
  // Armed while usrsctp holds data we gave it; checks once a second that it still moves.
  SctpProgressWatch progressWatch_{std::chrono::seconds(10)};
  IoLoop::Timer progressTimer_;
};

}  // namespace ifmesh::rtc
