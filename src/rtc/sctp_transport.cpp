#include "rtc/sctp_transport.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ifmesh/error.hpp"
#include "rtc/runtime.hpp"
#include "rtc/sctp_abort_reason.hpp"

namespace ifmesh::rtc {

namespace {

// Path MTU for SCTP packets so that SCTP + DTLS + UDP + IPv6 stays within 1280 bytes.
constexpr std::uint32_t kSctpPathMtu = 1188;
// Send side small, so that a slow link shows up as bufferedAmount (our queue) instead of
// disappearing into usrsctp: 256 KiB measured 554 Mbit/s on loopback against 503 for 4 MiB.
constexpr int kSendBuffer = 256 * 1024;
constexpr int kReceiveBuffer = 4 * 1024 * 1024;

// usrsctp answers SCTP_GET_SNDBUF_USE (its netinet/sctp.h and sctp_uio.h) but leaves the option
// and its struct out of usrsctp.h. ss_total_sndbuf is the association's total_output_queue_size:
// bytes queued in its streams plus bytes sent and not yet acknowledged.
constexpr int kSctpGetSndbufUse = 0x00001101;
struct SctpSockstat {
  sctp_assoc_t ss_assoc_id;
  std::uint32_t ss_total_sndbuf;
  std::uint32_t ss_total_recv_buf;
};

template <typename T>
void setOption(struct socket* sock, int level, int name, const T& value, const char* what) {
  if (usrsctp_setsockopt(sock, level, name, &value, sizeof value) != 0)
    throw Error(Errc::Internal, std::string("usrsctp setsockopt ") + what + ": " + strerror(errno));
}

}  // namespace

std::shared_ptr<SctpTransport> SctpTransport::create(
    Runtime& runtime, IoLoop& loop, std::uint16_t localPort, std::uint16_t remotePort,
    std::size_t maxReceiveSize, std::uint16_t streams, std::uint32_t heartbeatIntervalMs,
    Callbacks callbacks) {
  std::shared_ptr<SctpTransport> t(new SctpTransport(runtime, loop, localPort, remotePort,
                                                     maxReceiveSize, streams, heartbeatIntervalMs,
                                                     std::move(callbacks)));
  t->open();
  return t;
}

SctpTransport::SctpTransport(Runtime& runtime, IoLoop& loop, std::uint16_t localPort,
                             std::uint16_t remotePort, std::size_t maxReceiveSize,
                             std::uint16_t streams, std::uint32_t heartbeatIntervalMs,
                             Callbacks callbacks)
    : runtime_(runtime),
      loop_(loop),
      localPort_(localPort),
      remotePort_(remotePort),
      maxReceiveSize_(maxReceiveSize),
      streams_(streams),
      heartbeatIntervalMs_(heartbeatIntervalMs),
      callbacks_(std::move(callbacks)) {}

SctpTransport::~SctpTransport() {
  shutdown();
}

void SctpTransport::open() {
  id_ = runtime_.registerSctp(this, loop_);
  sock_ = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, nullptr, nullptr, 0, nullptr);
  if (!sock_) throw Error(Errc::Internal, std::string("usrsctp_socket: ") + strerror(errno));
  usrsctp_set_upcall(sock_, &SctpTransport::onUpcall, reinterpret_cast<void*>(id_));
  usrsctp_set_non_blocking(sock_, 1);

  // Abort on close: a closed PeerConnection must not linger in SHUTDOWN handshakes.
  setOption(sock_, SOL_SOCKET, SO_LINGER, linger{1, 0}, "SO_LINGER");
  setOption(sock_, SOL_SOCKET, SO_SNDBUF, std::max(kSendBuffer, static_cast<int>(maxReceiveSize_)),
            "SO_SNDBUF");
  setOption(sock_, SOL_SOCKET, SO_RCVBUF, kReceiveBuffer, "SO_RCVBUF");
  sctp_assoc_value reset{};
  reset.assoc_id = SCTP_ALL_ASSOC;
  reset.assoc_value = SCTP_ENABLE_RESET_STREAM_REQ;
  setOption(sock_, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, reset, "SCTP_ENABLE_STREAM_RESET");
  setOption(sock_, IPPROTO_SCTP, SCTP_RECVRCVINFO, 1, "SCTP_RECVRCVINFO");
  // Latency first: no Nagle. Bundling of small messages is restored by flush() (see there).
  setOption(sock_, IPPROTO_SCTP, SCTP_NODELAY, 1, "SCTP_NODELAY");
  for (std::uint16_t type : {SCTP_ASSOC_CHANGE, SCTP_SENDER_DRY_EVENT, SCTP_STREAM_RESET_EVENT}) {
    sctp_event event{};
    event.se_assoc_id = SCTP_ALL_ASSOC;
    event.se_on = 1;
    event.se_type = type;
    setOption(sock_, IPPROTO_SCTP, SCTP_EVENT, event, "SCTP_EVENT");
  }
  // Heartbeats stay on although usrsctp walks each association's heartbeat timer on every tick
  // (~3 % of CPU in a 100-agent mesh). After repeated retransmission timeouts a path is marked
  // unreachable; a SACK of retransmitted data does not clear that (Karn's rule), a heartbeat
  // answer does. Without heartbeats a burst of loopback drops under a flood stalled an
  // association for good, both ends still connected (1 run in ~30 of the p2p benchmark).
  sctp_paddrparams params{};
  params.spp_flags = SPP_PMTUD_DISABLE;
  params.spp_pathmtu = kSctpPathMtu;
  if (heartbeatIntervalMs_ != 0) {
    // The peer answers every heartbeat, so an idle but live association still hears from it.
    params.spp_flags |= SPP_HB_ENABLE;
    params.spp_hbinterval = heartbeatIntervalMs_;
  }
  setOption(sock_, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, params, "SCTP_PEER_ADDR_PARAMS");
  sctp_initmsg init{};
  init.sinit_num_ostreams = streams_;
  init.sinit_max_instreams = streams_;
  setOption(sock_, IPPROTO_SCTP, SCTP_INITMSG, init, "SCTP_INITMSG");
  // Fast acknowledgements: a lone message must not wait 200 ms for its SACK.
  sctp_sack_info sack{};
  sack.sack_assoc_id = SCTP_ALL_ASSOC;
  sack.sack_delay = 20;
  sack.sack_freq = 4;  // every 4th packet: 520 -> 620 Mbit/s on loopback; gaps still SACK at once
  setOption(sock_, IPPROTO_SCTP, SCTP_DELAYED_SACK, sack, "SCTP_DELAYED_SACK");

  sockaddr_conn local{};
  local.sconn_family = AF_CONN;
  local.sconn_port = htons(localPort_);
  local.sconn_addr = reinterpret_cast<void*>(id_);
  if (usrsctp_bind(sock_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
    throw Error(Errc::Internal, std::string("usrsctp_bind: ") + strerror(errno));
}

void SctpTransport::connect() {
  sockaddr_conn remote{};
  remote.sconn_family = AF_CONN;
  remote.sconn_port = htons(remotePort_);
  remote.sconn_addr = reinterpret_cast<void*>(id_);
  if (usrsctp_connect(sock_, reinterpret_cast<sockaddr*>(&remote), sizeof remote) != 0 &&
      errno != EINPROGRESS)
    throw Error(Errc::Internal, std::string("usrsctp_connect: ") + strerror(errno));
}

void SctpTransport::receivePacket(const std::uint8_t* data, std::size_t length) {
  if (closed_) return;
  inReceive_ = true;
  usrsctp_conninput(reinterpret_cast<void*>(id_), data, length, 0);
  inReceive_ = false;
  // Upcalls raised inside conninput are handled now, outside usrsctp, without a loop round trip.
  if (processingPosted_) {
    processingPosted_ = false;
    processEvents();
  }
  if (closed_) return;
  // A SACK in this packet may have acknowledged data and opened the send window.
  if (sendWindow_.load() != 0) noteAcknowledged();
  if (windowLimited_) flush();
}

void SctpTransport::outputPacket(const void* data, std::size_t length) {
  if (!closed_ && callbacks_.sendPacket) callbacks_.sendPacket(data, length);
}

// Usually raised on the owner loop; a timer-driven upcall on loop 0 is handed to the owner.
void SctpTransport::onUpcall(struct socket*, void* arg, int) {
  Runtime::instance().withSctp(reinterpret_cast<std::uintptr_t>(arg),
                               [](SctpTransport& self) { self.scheduleProcessing(); });
}

// Upcalls fire inside usrsctp calls; usrsctp must not be re-entered from there, so the work runs
// once the current call has returned: right after conninput, or as a posted loop task.
void SctpTransport::scheduleProcessing() {
  if (processingPosted_) return;
  processingPosted_ = true;
  if (inReceive_) return;
  loop_.post([weak = weak_from_this()] {
    if (auto self = weak.lock(); self && self->processingPosted_) {
      self->processingPosted_ = false;
      self->processEvents();
    }
  });
}

void SctpTransport::processEvents() {
  if (closed_) return;
  int events = usrsctp_get_events(sock_);
  if (events & SCTP_EVENT_READ) readAll();
  if (!closed_ && (events & SCTP_EVENT_WRITE)) flush();
}

void SctpTransport::readAll() {
  auto keepAlive = shared_from_this();  // a callback may drop the last owner
  std::vector<std::byte>& receiveBuffer = loop_.sctpScratch();
  while (!closed_) {
    sctp_rcvinfo info{};
    socklen_t infoLength = sizeof info;
    unsigned int infoType = 0;
    int flags = 0;
    sockaddr_conn from{};
    socklen_t fromLength = sizeof from;
    ssize_t n = usrsctp_recvv(sock_, receiveBuffer.data(), receiveBuffer.size(),
                              reinterpret_cast<sockaddr*>(&from), &fromLength, &info, &infoLength,
                              &infoType, &flags);
    if (n < 0) {
      if (errno == EWOULDBLOCK || errno == EAGAIN) return;
      return closeWith(std::string("SCTP receive failed: ") + strerror(errno));
    }
    if (n == 0) return closeWith("SCTP association closed by peer");
    const std::byte* bytes = receiveBuffer.data();
    auto size = static_cast<std::size_t>(n);
    if (flags & MSG_NOTIFICATION) {
      notification_.insert(notification_.end(), bytes, bytes + size);
      if (flags & MSG_EOR) {
        std::vector<std::byte> note;
        note.swap(notification_);
        handleNotification(note.data(), note.size());
      }
      continue;
    }
    if (infoType != SCTP_RECVV_RCVINFO) continue;
    std::uint16_t stream = info.rcv_sid;
    std::uint32_t ppid = ntohl(info.rcv_ppid);
    bool complete = flags & MSG_EOR;
    if (discarding_.count(stream)) {
      if (complete) discarding_.erase(stream);
      continue;
    }
    auto& buffer = partial_[stream];
    if (buffer.size() + size > maxReceiveSize_) {
      // A peer that ignores our a=max-message-size: drop that message, keep the association.
      partial_.erase(stream);
      if (!complete) discarding_.insert(stream);
      if (callbacks_.onStreamError)
        callbacks_.onStreamError(stream, "incoming message exceeds max-message-size; dropped");
      continue;
    }
    if (complete && buffer.empty()) {
      partial_.erase(stream);
      if (callbacks_.onMessage)
        callbacks_.onMessage(stream, ppid, std::vector(bytes, bytes + size));
      continue;
    }
    buffer.insert(buffer.end(), bytes, bytes + size);
    if (complete) {
      std::vector<std::byte> message;
      message.swap(buffer);
      partial_.erase(stream);
      if (callbacks_.onMessage) callbacks_.onMessage(stream, ppid, std::move(message));
    }
  }
}

void SctpTransport::handleNotification(const std::byte* data, std::size_t length) {
  if (length < sizeof(sctp_notification::sn_header)) return;
  sctp_notification note{};
  std::memcpy(&note, data, std::min(length, sizeof note));
  switch (note.sn_header.sn_type) {
    case SCTP_ASSOC_CHANGE:
      switch (note.sn_assoc_change.sac_state) {
        case SCTP_COMM_UP:
          if (!connected_) {
            connected_ = true;
            outboundStreams_ = note.sn_assoc_change.sac_outbound_streams;
            if (callbacks_.onConnected) callbacks_.onConnected();
            flush();
          }
          break;
        case SCTP_COMM_LOST: {
          // sac_error is the cause code of an ABORT the peer sent, and sac_info that ABORT,
          // whose diagnostic cause says why; an abort of this side's own has neither.
          std::string reason =
              "SCTP association lost (error " + std::to_string(note.sn_assoc_change.sac_error);
          const std::size_t info = offsetof(sctp_assoc_change, sac_info);
          if (length > info) {
            const std::string cause = describeSctpAbort(data + info, length - info);
            if (!cause.empty()) reason += "; " + cause;
          }
          return closeWith(reason + ")");
        }
        case SCTP_SHUTDOWN_COMP:
          return closeWith("SCTP association shut down");
        case SCTP_CANT_STR_ASSOC:
          return closeWith("SCTP association could not be established");
        default:
          break;
      }
      break;
    case SCTP_SENDER_DRY_EVENT:
      flush();
      break;
    case SCTP_STREAM_RESET_EVENT: {
      const auto& reset = note.sn_strreset_event;
      if (length < offsetof(sctp_stream_reset_event, strreset_stream_list)) break;
      std::size_t count = (std::min<std::size_t>(reset.strreset_length, length) -
                           offsetof(sctp_stream_reset_event, strreset_stream_list)) /
                          sizeof(std::uint16_t);
      const std::byte* list = data + offsetof(sctp_stream_reset_event, strreset_stream_list);
      if (!(reset.strreset_flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)) &&
          (reset.strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN)) {
        for (std::size_t i = 0; i < count; ++i) {
          std::uint16_t stream;
          std::memcpy(&stream, list + i * sizeof stream, sizeof stream);
          partial_.erase(stream);
          if (callbacks_.onIncomingReset) callbacks_.onIncomingReset(stream);
        }
      }
      // A finished (or refused) reset frees the way for ones that had to wait.
      for (auto it = pendingResets_.begin(); it != pendingResets_.end();) {
        if (trySendReset(*it))
          it = pendingResets_.erase(it);
        else
          break;
      }
      break;
    }
    default:
      break;
  }
}

void SctpTransport::enqueue(std::uint16_t stream, std::uint32_t ppid, std::vector<std::byte> data,
                            SctpSendOptions options, bool urgent) {
  std::size_t size = data.size();
  {
    std::lock_guard lock(queueMutex_);
    queue_.push_back(Outgoing{stream, ppid, std::move(data), options});
    queue_.back().urgent = urgent;
    if (urgent) ++urgentQueued_;
  }
  bytesQueuedTotal_ += size;
  if (loop_.isLoopThread()) {
    if (connected_ && !processingPosted_) flush();
    return;
  }
  postFlush();
}

void SctpTransport::postFlush() {
  if (!flushPosted_.exchange(true)) {
    loop_.post([weak = weak_from_this()] {
      if (auto self = weak.lock()) {
        self->flushPosted_ = false;
        self->flush();
      }
    });
  }
}

void SctpTransport::setSendWindow(std::size_t bytes) {
  std::size_t before = sendWindow_.exchange(bytes);
  // A wider window may let waiting messages go now rather than at the next SACK.
  if (before != 0 && (bytes == 0 || bytes > before)) postFlush();
}

std::size_t SctpTransport::heldBytes() {
  if (!sock_) return 0;
  SctpSockstat stat{};
  socklen_t length = sizeof stat;
  if (usrsctp_getsockopt(sock_, IPPROTO_SCTP, kSctpGetSndbufUse, &stat, &length) != 0) return 0;
  return stat.ss_total_sndbuf;
}

void SctpTransport::noteAcknowledged() {
  if (bytesHanded_ == bytesAcknowledged_.load()) return;
  std::size_t held = heldBytes();
  if (held > bytesHanded_) return;
  std::uint64_t acknowledged = bytesHanded_ - held;
  if (acknowledged > bytesAcknowledged_.load()) bytesAcknowledged_ = acknowledged;
}

void SctpTransport::enqueueReset(std::uint16_t stream) {
  {
    std::lock_guard lock(queueMutex_);
    Outgoing reset{stream, 0, {}, {}};
    reset.isReset = true;
    queue_.push_back(std::move(reset));
  }
  loop_.post([weak = weak_from_this()] {
    if (auto self = weak.lock()) self->flush();
  });
}

bool SctpTransport::trySendReset(std::uint16_t stream) {
  std::vector<std::uint8_t> buffer(sizeof(sctp_reset_streams) + sizeof(std::uint16_t));
  auto* request = reinterpret_cast<sctp_reset_streams*>(buffer.data());
  request->srs_assoc_id = SCTP_ALL_ASSOC;
  request->srs_flags = SCTP_STREAM_RESET_OUTGOING;
  request->srs_number_streams = 1;
  request->srs_stream_list[0] = stream;
  return usrsctp_setsockopt(sock_, IPPROTO_SCTP, SCTP_RESET_STREAMS, buffer.data(),
                            static_cast<socklen_t>(buffer.size())) == 0;
}

// Drains the send queue into usrsctp in order until it refuses (its buffer is full) or holds the
// send window, unless an urgent message waits, which takes everything before it past the window;
// the rest waits for the next write upcall or the SACK that opens the window. When
// several messages are waiting, Nagle is switched on for all but the last so usrsctp bundles them
// into full packets, then off again so the last one flushes all.
void SctpTransport::flush() {
  // Re-entry (a callback inside the loop below sending again) just extends the running drain.
  if (closed_ || !connected_ || flushing_) return;
  auto keepAlive = shared_from_this();
  flushing_ = true;
  windowLimited_ = false;
  bool bundling = false;
  const std::size_t window = sendWindow_.load();
  while (!closed_) {
    Outgoing* next = nullptr;
    bool last = false;
    bool urgentWaits = false;
    {
      std::lock_guard lock(queueMutex_);
      if (queue_.empty()) break;
      next = &queue_.front();  // only this thread pops, and push_back keeps references valid
      last = queue_.size() == 1;
      urgentWaits = urgentQueued_ > 0;
    }
    if (next->isReset) {
      if (!trySendReset(next->stream)) pendingResets_.insert(next->stream);
    } else {
      if (window != 0 && !urgentWaits) {
        // A message enters when it fits in what the window leaves, or alone when usrsctp holds
        // nothing (a message larger than the window is never refused for good).
        std::size_t held = heldBytes();
        if (held > 0 && held + next->data.size() > window) {
          windowLimited_ = true;
          break;
        }
      }
      if (!last && !bundling) {
        int off = 0;
        usrsctp_setsockopt(sock_, IPPROTO_SCTP, SCTP_NODELAY, &off, sizeof off);
        bundling = true;
      } else if (last && bundling) {
        int on = 1;
        usrsctp_setsockopt(sock_, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof on);
        bundling = false;
      }
      sctp_sendv_spa spa{};
      spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
      spa.sendv_sndinfo.snd_sid = next->stream;
      spa.sendv_sndinfo.snd_ppid = htonl(next->ppid);
      spa.sendv_sndinfo.snd_flags = SCTP_EOR;
      if (!next->options.ordered) spa.sendv_sndinfo.snd_flags |= SCTP_UNORDERED;
      if (next->options.policy != SctpSendOptions::Policy::Reliable) {
        spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
        spa.sendv_prinfo.pr_policy = next->options.policy == SctpSendOptions::Policy::MaxRetransmits
                                         ? SCTP_PR_SCTP_RTX
                                         : SCTP_PR_SCTP_TTL;
        spa.sendv_prinfo.pr_value = next->options.value;
      }
      ssize_t n = usrsctp_sendv(sock_, next->data.data(), next->data.size(), nullptr, 0, &spa,
                                sizeof spa, SCTP_SENDV_SPA, 0);
      if (n >= 0) {
        bytesHanded_ += next->data.size();
        watchProgress();
      }
      if (n < 0) {
        if (errno == EWOULDBLOCK || errno == EAGAIN) break;  // resumes on the write upcall
        std::string reason = std::string("SCTP send failed: ") + strerror(errno);
        if (callbacks_.onStreamError) callbacks_.onStreamError(next->stream, reason);
      }
    }
    Outgoing done;
    {
      std::lock_guard lock(queueMutex_);
      done = std::move(queue_.front());
      queue_.pop_front();
      if (done.urgent) --urgentQueued_;
    }
    if (!done.isReset && callbacks_.onSent)
      callbacks_.onSent(done.stream, done.ppid, done.data.size());
  }
  if (bundling && !closed_) {
    int on = 1;
    usrsctp_setsockopt(sock_, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof on);
  }
  flushing_ = false;
}

namespace {

const char* associationStateName(std::int32_t state) {
  switch (state) {
    case SCTP_CLOSED:
      return "closed";
    case SCTP_COOKIE_WAIT:
      return "cookie-wait";
    case SCTP_COOKIE_ECHOED:
      return "cookie-echoed";
    case SCTP_ESTABLISHED:
      return "established";
    case SCTP_SHUTDOWN_SENT:
      return "shutdown-sent";
    case SCTP_SHUTDOWN_RECEIVED:
      return "shutdown-received";
    case SCTP_SHUTDOWN_ACK_SENT:
      return "shutdown-ack-sent";
    case SCTP_SHUTDOWN_PENDING:
      return "shutdown-pending";
    default:
      return "unknown";
  }
}

}  // namespace

std::optional<SctpAssociationStats> SctpTransport::associationStats() {
  if (!sock_) return std::nullopt;
  sctp_status status{};
  socklen_t length = sizeof status;
  if (usrsctp_getsockopt(sock_, IPPROTO_SCTP, SCTP_STATUS, &status, &length) != 0)
    return std::nullopt;
  SctpAssociationStats s;
  s.state = associationStateName(status.sstat_state);
  s.pathReachable = status.sstat_primary.spinfo_state == SCTP_ACTIVE;
  s.peerWindowBytes = status.sstat_rwnd;
  s.congestionWindowBytes = status.sstat_primary.spinfo_cwnd;
  s.rtoMs = status.sstat_primary.spinfo_rto;
  s.smoothedRttMs = status.sstat_primary.spinfo_srtt;
  s.unackedChunks = status.sstat_unackdata;
  s.pendingChunks = status.sstat_penddata;
  std::lock_guard lock(queueMutex_);
  s.queuedMessages = queue_.size();
  return s;
}

void SctpTransport::watchProgress() {
  if (progressTimer_.active()) return;
  progressWatch_.reset();
  progressTimer_ = loop_.addTimer(std::chrono::seconds(1), [this] { return checkProgress(); });
}

// Once a second while armed: disarms when usrsctp has nothing unacknowledged and nothing of ours
// waits; ends the association when it has stopped moving (SctpProgressWatch says why).
bool SctpTransport::checkProgress() {
  if (closed_) return false;
  auto stats = associationStats();
  if (!stats || (stats->unackedChunks == 0 && stats->queuedMessages == 0)) {
    progressTimer_ = IoLoop::Timer();  // releases our handle; returning false removes the timer
    return false;
  }
  SctpProgressWatch::Snapshot snapshot{stats->unackedChunks, stats->peerWindowBytes,
                                       stats->congestionWindowBytes, stats->rtoMs};
  if (!progressWatch_.stuck(snapshot, SctpProgressWatch::Clock::now())) return true;
  std::string reason =
      "SCTP association stopped making progress: " + std::to_string(stats->unackedChunks) +
      " DATA chunks unacknowledged and unchanged for " +
      std::to_string(progressWatch_.limit().count() / 1000) + " s while the peer answers";
  progressTimer_ = IoLoop::Timer();
  auto keepAlive = shared_from_this();
  shutdown();
  if (callbacks_.onStalled) callbacks_.onStalled(reason);
  return false;
}

void SctpTransport::closeWith(const std::string& reason) {
  if (closed_) return;
  shutdown();
  if (callbacks_.onClosed) callbacks_.onClosed(reason);
}

void SctpTransport::shutdown() {
  if (!sock_) {
    closed_ = true;
    return;
  }
  progressTimer_.cancel();
  usrsctp_set_upcall(sock_, nullptr, nullptr);
  usrsctp_close(sock_);  // SO_LINGER 0: sends ABORT
  closed_ = true;
  sock_ = nullptr;
  runtime_.unregisterSctp(id_);
}

}  // namespace ifmesh::rtc
