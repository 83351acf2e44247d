#include "rtc/nice_ice_transport.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <memory>

#include "ifmesh/error.hpp"
#include "rtc/candidate.hpp"
#include "rtc/ice_server_url.hpp"

namespace ifmesh::rtc {

namespace {

constexpr guint kComponent = 1;

struct GFreeDeleter {
  void operator()(gchar* p) const { g_free(p); }
};
using GString = std::unique_ptr<gchar, GFreeDeleter>;

void setIfExists(NiceAgent* agent, const char* property, auto value) {
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(agent), property))
    g_object_set(G_OBJECT(agent), property, value, nullptr);
}

constexpr guint kSettledPacingMs = 100;

}  // namespace

NiceIceTransport::NiceIceTransport(IoLoop& loop, const RtcConfiguration& config, bool controlling,
                                   Callbacks callbacks)
    : loop_(loop),
      cell_(loop.leaseContext()),
      callbacks_(std::move(callbacks)),
      udpReceiveBufferBytes_(config.udpReceiveBufferBytes) {
  // No NICE_AGENT_OPTION_CONSENT_FRESHNESS: libnice 0.1.21 sends one consent check every 4-6 s,
  // never retransmitted, and fails the connection 10 s after the last answer, so one or two lost
  // checks end a healthy connection however much data it carries (a bulk transfer through a
  // relay losing ~4 % of datagrams lost ICE about 10 s in, in every early run; the test
  // Fault.LostConsentChecksDoNotEndAConnectionThatIsTalking). PeerCore's consent watchdog does
  // the job instead (any authenticated record counts; 30 s by default, RFC 7675's expiry);
  // libnice keeps NAT bindings warm with binding indications and still answers the peer's
  // consent checks (Chromium's).
  int options = NICE_AGENT_OPTION_ICE_TRICKLE;
  if (!config.aggressiveNomination) options |= NICE_AGENT_OPTION_REGULAR_NOMINATION;
  agent_ = nice_agent_new_full(cell_.context(), NICE_COMPATIBILITY_RFC5245,
                               static_cast<NiceAgentOption>(options));
  if (!agent_) throw Error(Errc::Internal, "nice_agent_new_full failed");
  g_object_set(G_OBJECT(agent_), "controlling-mode", controlling ? TRUE : FALSE, "ice-tcp", FALSE,
               "force-relay", config.forceRelay ? TRUE : FALSE, nullptr);
  setIfExists(agent_, "upnp", FALSE);
  // Connectivity-check pacing (Ta) dominates setup time (20 ms default: ~60 ms to connect).
  setIfExists(agent_, "stun-pacing-timer",
              static_cast<guint>(std::max(1u, config.iceCheckPacingMs)));
  // First STUN retransmit after 100 ms instead of 200 ms: loss on a LAN is rare, stalls are costly.
  setIfExists(agent_, "stun-initial-timeout", 100u);
  setIfExists(agent_, "stun-max-retransmissions", 6u);

  anyInterface_ = config.localAddresses.empty();
  for (const auto& address : config.localAddresses) {
    NiceAddress addr;
    nice_address_init(&addr);
    if (!nice_address_set_from_string(&addr, address.c_str()))
      throw Error(Errc::InvalidArgument, "local address is not an IP address: " + address);
    nice_agent_add_local_address(agent_, &addr);
  }

  streamId_ = nice_agent_add_stream(agent_, 1);
  if (streamId_ == 0) throw Error(Errc::Internal, "nice_agent_add_stream failed");
  nice_agent_set_stream_name(agent_, streamId_, "application");
  if (config.portRangeBegin != 0)
    nice_agent_set_port_range(agent_, streamId_, kComponent, config.portRangeBegin,
                              config.portRangeEnd ? config.portRangeEnd : config.portRangeBegin);

  bool haveStun = false;
  for (const auto& server : config.iceServers) {
    IceServerUrl url = parseIceServerUrl(server.url);
    std::string ip = resolveHost(url.host);
    if (url.scheme == IceServerUrl::Scheme::Stun) {
      if (haveStun) continue;  // libnice takes one STUN server
      haveStun = true;
      g_object_set(G_OBJECT(agent_), "stun-server", ip.c_str(), "stun-server-port",
                   static_cast<guint>(url.port), nullptr);
    } else {
      NiceRelayType type = url.transport == IceServerUrl::Transport::Tcp ? NICE_RELAY_TYPE_TURN_TCP
                                                                         : NICE_RELAY_TYPE_TURN_UDP;
      nice_agent_set_relay_info(agent_, streamId_, kComponent, ip.c_str(), url.port,
                                server.username.c_str(), server.credential.c_str(), type);
    }
  }

  g_signal_connect(G_OBJECT(agent_), "new-candidate-full",
                   G_CALLBACK(&NiceIceTransport::onCandidate), this);
  g_signal_connect(G_OBJECT(agent_), "candidate-gathering-done",
                   G_CALLBACK(&NiceIceTransport::onGatheringDoneSignal), this);
  g_signal_connect(G_OBJECT(agent_), "component-state-changed",
                   G_CALLBACK(&NiceIceTransport::onComponentState), this);
  g_signal_connect(G_OBJECT(agent_), "new-selected-pair-full",
                   G_CALLBACK(&NiceIceTransport::onSelectedPair), this);
  nice_agent_attach_recv(agent_, streamId_, kComponent, cell_.context(), &NiceIceTransport::onRecv,
                         this);
  cell_.touch();
}

NiceIceTransport::~NiceIceTransport() {
  shutdown();
  g_object_unref(agent_);
}

void NiceIceTransport::shutdown() {
  if (shutdown_) return;
  // What the closing layers sent last (SCTP's ABORT, DTLS's close_notify) may still be held.
  if (loop_.heldDatagrams().owner == this) sendHeld();
  shutdown_ = true;
  g_signal_handlers_disconnect_by_data(agent_, this);
  nice_agent_attach_recv(agent_, streamId_, kComponent, cell_.context(), nullptr, nullptr);
  nice_agent_remove_stream(agent_, streamId_);
  nice_agent_close_async(agent_, nullptr, nullptr);
  cell_.touch();
}

std::pair<std::string, std::string> NiceIceTransport::localCredentials() const {
  gchar* ufrag = nullptr;
  gchar* pwd = nullptr;
  if (!nice_agent_get_local_credentials(agent_, streamId_, &ufrag, &pwd))
    throw Error(Errc::Internal, "no local ICE credentials");
  GString u(ufrag), p(pwd);
  return {u.get(), p.get()};
}

bool NiceIceTransport::gather() {
  if (gathering_ || shutdown_) return true;
  gathering_ = true;
  // Without STUN/TURN the candidate signals fire synchronously inside this call. libnice leaves
  // loopback out of "every interface", so a host with nothing else has no address to gather on.
  bool started = nice_agent_gather_candidates(agent_, streamId_);
  if (!started && anyInterface_) {
    NiceAddress loopback;
    nice_address_init(&loopback);
    nice_address_set_from_string(&loopback, "127.0.0.1");
    nice_agent_add_local_address(agent_, &loopback);
    started = nice_agent_gather_candidates(agent_, streamId_);
  }
  cell_.touch();
  return started;
}

void NiceIceTransport::setRemoteCredentials(const std::string& ufrag, const std::string& pwd) {
  nice_agent_set_remote_credentials(agent_, streamId_, ufrag.c_str(), pwd.c_str());
  cell_.touch();
}

bool NiceIceTransport::addRemoteCandidate(const std::string& candidate) {
  IceCandidate parsed = parseCandidate(candidate);  // validates; throws MalformedCandidate
  if (parsed.component != static_cast<int>(kComponent) || parsed.transport != "udp") return false;
  if (isMdnsHostname(parsed.address)) return false;  // rely on peer-reflexive discovery instead
  std::string line = "a=" + serializeCandidate(parsed);
  NiceCandidate* nc = nice_agent_parse_remote_candidate_sdp(agent_, streamId_, line.c_str());
  if (!nc) return false;  // e.g. an unresolvable hostname
  GSList list{nc, nullptr};
  int added = nice_agent_set_remote_candidates(agent_, streamId_, kComponent, &list);
  nice_candidate_free(nc);
  cell_.touch();
  return added > 0;
}

void NiceIceTransport::remoteGatheringDone() {
  nice_agent_peer_candidate_gathering_done(agent_, streamId_);
  cell_.touch();
}

// While a received datagram is handled, what it makes us send (the packets a SACK lets out, a
// handshake flight) is held in the loop's HeldDatagrams and leaves in one batch (libnice: one
// sendmmsg) when the handler returns, instead of one sendmsg each.
bool NiceIceTransport::send(const void* data, std::size_t length) {
  if (shutdown_) return false;
  auto& held = loop_.heldDatagrams();
  if (held.owner != this) return sendNow(data, length);
  const auto* bytes = static_cast<const std::byte*>(data);
  held.bytes.insert(held.bytes.end(), bytes, bytes + length);
  held.ends.push_back(held.bytes.size());
  return true;
}

bool NiceIceTransport::sendNow(const void* data, std::size_t length) {
  bool sent = nice_agent_send(agent_, streamId_, kComponent, static_cast<guint>(length),
                              static_cast<const gchar*>(data)) >= 0;
  if (sendMayChangeSources_) cell_.touch();
  return sent;
}

// Datagrams the batch cannot take (the socket buffer full) are lost as on the wire: DTLS
// retransmits its flights and SCTP its data, as after any send that would block.
void NiceIceTransport::sendHeld() {
  auto& held = loop_.heldDatagrams();
  held.owner = nullptr;
  if (held.ends.size() == 1) {
    sendNow(held.bytes.data(), held.ends[0]);
  } else if (!held.ends.empty()) {
    constexpr std::size_t kChunk = 64;
    std::array<GOutputVector, kChunk> vectors;
    std::array<NiceOutputMessage, kChunk> messages;
    std::size_t begin = 0;
    for (std::size_t first = 0; first < held.ends.size(); first += kChunk) {
      const std::size_t n = std::min(kChunk, held.ends.size() - first);
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t end = held.ends[first + i];
        vectors[i] = {held.bytes.data() + begin, end - begin};
        messages[i] = {&vectors[i], 1};
        begin = end;
      }
      nice_agent_send_messages_nonblocking(agent_, streamId_, kComponent, messages.data(),
                                           static_cast<guint>(n), nullptr, nullptr);
    }
    if (sendMayChangeSources_) cell_.touch();
  }
  held.bytes.clear();
  held.ends.clear();
}

std::string NiceIceTransport::candidateLine(NiceCandidate* candidate) const {
  GString sdp(nice_agent_generate_local_candidate_sdp(agent_, candidate));
  std::string line = sdp ? sdp.get() : "";
  if (line.rfind("a=", 0) == 0) line.erase(0, 2);
  return line;
}

void NiceIceTransport::setState(IceState state) {
  if (state == state_) return;
  state_ = state;
  if (callbacks_.onStateChange) callbacks_.onStateChange(state);
}

void NiceIceTransport::onRecv(NiceAgent*, guint, guint, guint len, gchar* buf, gpointer self) {
  auto* t = static_cast<NiceIceTransport*>(self);
  if (t->shutdown_ || !t->callbacks_.onData) return;
  // The transport outlives this call even if the handler closes the connection: its owner
  // destroys it only after the current dispatch (PeerCore::teardownTransports).
  auto& held = t->loop_.heldDatagrams();
  if (held.owner == nullptr) held.owner = t;  // else inside another transport's hold: send at once
  struct SendHeldOnExit {
    NiceIceTransport* transport;
    ~SendHeldOnExit() {
      if (transport->loop_.heldDatagrams().owner == transport) transport->sendHeld();
    }
  } sendOnExit{t};
  t->callbacks_.onData(reinterpret_cast<const std::uint8_t*>(buf), len);
}

void NiceIceTransport::onCandidate(NiceAgent*, NiceCandidate* candidate, gpointer self) {
  auto* t = static_cast<NiceIceTransport*>(self);
  if (t->shutdown_ || candidate->transport != NICE_CANDIDATE_TRANSPORT_UDP) return;
  std::string line = t->candidateLine(candidate);
  if (!line.empty() && t->callbacks_.onLocalCandidate) t->callbacks_.onLocalCandidate(line);
}

void NiceIceTransport::onGatheringDoneSignal(NiceAgent*, guint, gpointer self) {
  auto* t = static_cast<NiceIceTransport*>(self);
  if (!t->shutdown_ && t->callbacks_.onGatheringDone) t->callbacks_.onGatheringDone();
}

void NiceIceTransport::onComponentState(NiceAgent*, guint, guint, guint state, gpointer self) {
  auto* t = static_cast<NiceIceTransport*>(self);
  if (t->shutdown_) return;
  switch (state) {
    case NICE_COMPONENT_STATE_CONNECTING:
      if (t->state_ == IceState::New) t->setState(IceState::Checking);
      break;
    case NICE_COMPONENT_STATE_CONNECTED:
      t->setState(IceState::Connected);
      break;
    case NICE_COMPONENT_STATE_READY:
      // Fast pacing (Ta) only pays while pairs are being checked. Once ready, libnice keeps
      // re-arming its check timer at Ta for consent and keepalive traffic: at 1 ms that woke
      // each of a mesh100's 9,900 agents about every millisecond for nothing.
      g_object_set(G_OBJECT(t->agent_), "stun-pacing-timer", kSettledPacingMs, nullptr);
      t->setState(IceState::Completed);
      break;
    case NICE_COMPONENT_STATE_FAILED:
      t->setState(IceState::Failed);
      break;
    case NICE_COMPONENT_STATE_DISCONNECTED:
      if (t->state_ == IceState::Connected || t->state_ == IceState::Completed)
        t->setState(IceState::Disconnected);
      break;
    default:
      break;
  }
}

void NiceIceTransport::onSelectedPair(NiceAgent*, guint, guint, NiceCandidate* local,
                                      NiceCandidate* remote, gpointer self) {
  auto* t = static_cast<NiceIceTransport*>(self);
  static constexpr const char* kTypes[] = {"host", "srflx", "prflx", "relay"};
  CandidatePairStats pair;
  pair.localCandidate = t->candidateLine(local);
  GString remoteSdp(nice_agent_generate_local_candidate_sdp(t->agent_, remote));
  pair.remoteCandidate = remoteSdp ? remoteSdp.get() : "";
  if (pair.remoteCandidate.rfind("a=", 0) == 0) pair.remoteCandidate.erase(0, 2);
  pair.localType = local->type <= NICE_CANDIDATE_TYPE_RELAYED ? kTypes[local->type] : "unknown";
  pair.remoteType = remote->type <= NICE_CANDIDATE_TYPE_RELAYED ? kTypes[remote->type] : "unknown";
  t->selectedPair_ = pair;
  t->sendMayChangeSources_ = local->type == NICE_CANDIDATE_TYPE_RELAYED;
  if (t->udpReceiveBufferBytes_ > 0) {
    if (GSocket* socket = nice_agent_get_selected_socket(t->agent_, t->streamId_, kComponent)) {
      int size = t->udpReceiveBufferBytes_;
      ::setsockopt(g_socket_get_fd(socket), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
      g_object_unref(socket);
    }
  }
}

}  // namespace ifmesh::rtc
