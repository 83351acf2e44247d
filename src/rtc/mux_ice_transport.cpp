#include "rtc/mux_ice_transport.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

#include "ifmesh/error.hpp"
#include "rtc/candidate.hpp"
#include "rtc/ice_server_url.hpp"

namespace ifmesh::rtc {

namespace {

std::optional<ice::StunAddress> parseAddress(const std::string& text) {
  ice::StunAddress a;
  if (::inet_pton(AF_INET, text.c_str(), a.ip.data()) == 1) return a;
  a.ipv6 = true;
  if (::inet_pton(AF_INET6, text.c_str(), a.ip.data()) == 1) return a;
  return std::nullopt;
}

std::string formatAddress(const ice::StunAddress& a) {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(a.ipv6 ? AF_INET6 : AF_INET, a.ip.data(), text, sizeof text);
  return text;
}

const char* typeName(ice::CandidateType type) {
  switch (type) {
    case ice::CandidateType::Host:
      return "host";
    case ice::CandidateType::ServerReflexive:
      return "srflx";
    case ice::CandidateType::PeerReflexive:
      return "prflx";
    case ice::CandidateType::Relayed:
      return "relay";
  }
  return "host";
}

// The candidate line of `c` (RFC 8839), with `extensions` after its type. A candidate whose base
// is another address (a local server-reflexive one) names it as raddr / rport.
std::string candidateLine(const ice::Candidate& c,
                          std::vector<std::pair<std::string, std::string>> extensions) {
  IceCandidate line;
  line.foundation = c.foundation.empty() ? "0" : c.foundation;
  line.transport = "udp";
  line.priority = c.priority;
  line.address = formatAddress(c.address);
  line.port = c.address.port;
  line.type = typeName(c.type);
  if (c.base != c.address) {
    line.relatedAddress = formatAddress(c.base);
    line.relatedPort = c.base.port;
  }
  line.extensions = std::move(extensions);
  return serializeCandidate(line);
}

void randomBytes(std::span<std::uint8_t> out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1)
    throw Error(Errc::Internal, "RAND_bytes failed");
}

std::uint64_t randomBits() {
  std::uint64_t v = 0;
  randomBytes(std::span(reinterpret_cast<std::uint8_t*>(&v), sizeof v));
  return v;
}

// The addresses to gather on: the configured ones, or every interface that is up (loopback
// only when there is nothing else, as libwebrtc does). IPv6 link-local addresses need a scope
// the candidate syntax cannot carry: left out.
std::vector<ice::StunAddress> localAddresses(const RtcConfiguration& config) {
  std::vector<ice::StunAddress> out;
  for (const auto& text : config.localAddresses)
    if (auto a = parseAddress(text)) out.push_back(*a);
  if (!config.localAddresses.empty()) return out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) == 0) {
    for (ifaddrs* i = list; i; i = i->ifa_next) {
      if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)) continue;
      ice::StunAddress a;
      if (i->ifa_addr->sa_family == AF_INET) {
        std::memcpy(a.ip.data(), &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, 4);
      } else if (i->ifa_addr->sa_family == AF_INET6) {
        const auto& in6 = reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr;
        if (IN6_IS_ADDR_LINKLOCAL(&in6)) continue;
        a.ipv6 = true;
        std::memcpy(a.ip.data(), &in6, 16);
      } else {
        continue;
      }
      if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
    }
    ::freeifaddrs(list);
  }
  if (out.empty()) out.push_back(*parseAddress("127.0.0.1"));
  return out;
}

}  // namespace

bool MuxIceTransport::serves(const RtcConfiguration& config) {
  if (!config.sharedIceSocket || config.forceRelay || config.udpReceiveBufferBytes != 0 ||
      config.portRangeBegin != 0 || config.portRangeEnd != 0)
    return false;
  for (const auto& server : config.iceServers) {
    try {
      if (parseIceServerUrl(server.url).scheme != IceServerUrl::Scheme::Stun) return false;
    } catch (const Error&) {
      return false;  // libnice's transport reports the bad URL
    }
  }
  return true;
}

MuxIceTransport::MuxIceTransport(IoLoop& loop, const RtcConfiguration& config, bool controlling,
                                 Callbacks callbacks)
    : loop_(loop),
      hub_(loop.udpMux()),
      config_(config),
      controlling_(controlling),
      callbacks_(std::move(callbacks)) {
  for (const auto& server : config.iceServers) {
    IceServerUrl url = parseIceServerUrl(server.url);
    // A blocking lookup for a name, as libnice's transport makes: configuration time.
    auto address = parseAddress(resolveHost(url.host));
    if (!address) throw Error(Errc::InvalidArgument, "STUN server address: " + url.host);
    address->port = url.port;
    if (std::find(stunServers_.begin(), stunServers_.end(), *address) == stunServers_.end())
      stunServers_.push_back(*address);
  }
  id_ = hub_.add(*this, ufrag_, tag_, true);
  // 128 bits in 22 ice-chars and more (RFC 8839: at least 22 characters).
  for (int word = 0; word < 4; ++word) appendIceChars(pwd_, randomBits(), 6);
}

MuxIceTransport::~MuxIceTransport() {
  shutdown();
}

std::optional<std::uint32_t> MuxIceTransport::localMuxTag() const {
  if (tag_ == 0) return std::nullopt;
  return tag_;
}

void MuxIceTransport::shutdown() {
  if (shutdown_) return;
  shutdown_ = true;
  *alive_ = false;
  timer_.cancel();
  hub_.remove(id_);
  selectedSocket_ = nullptr;
}

std::string MuxIceTransport::localCandidateLine(const ice::Candidate& c) const {
  return candidateLine(c, {{"generation", "0"}, {"ufrag", ufrag_}});
}

bool MuxIceTransport::gather() {
  if (shutdown_ || !locals_.empty()) return true;
  std::uint16_t preference = 65535;
  for (const auto& address : localAddresses(config_)) {
    ice::Candidate c;
    c.type = ice::CandidateType::Host;
    try {
      c.address = hub_.socket(address).localAddress();
    } catch (const Error&) {
      continue;  // an address we cannot bind (gone, or not ours): the others may do
    }
    c.base = c.address;
    c.priority = ice::candidatePriority(ice::CandidateType::Host, preference--);
    c.foundation = std::to_string(locals_.size() + 1);
    locals_.push_back(c);
  }
  if (locals_.empty()) return false;
  if (agent_) {
    for (const auto& c : locals_) agent_->addLocal(c);
  }
  // As libnice does: every host candidate inside this call; without STUN servers, the end too.
  auto alive = alive_;
  for (const auto& c : locals_) {
    if (callbacks_.onLocalCandidate) callbacks_.onLocalCandidate(localCandidateLine(c));
    if (!*alive) return true;
  }
  if (agent_) drive();
  if (!*alive) return true;
  gatherReflexive();
  return true;
}

void MuxIceTransport::gatherReflexive() {
  std::vector<std::pair<ice::Candidate, ice::StunAddress>> queries;
  for (const auto& host : locals_)
    for (const auto& server : stunServers_)
      if (server.ipv6 == host.address.ipv6) queries.emplace_back(host, server);
  // Counted before the first query: an answer the hub has already may come back at once.
  reflexivePending_ = queries.size();
  if (queries.empty()) {
    finishGathering();
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  for (const auto& [host, server] : queries) {
    hub_.queryReflexive(host.base, server,
                        [this, alive, host](std::optional<ice::StunAddress> mapped) {
                          auto held = alive.lock();
                          if (held && *held) onReflexive(host, mapped);
                        });
    if (auto held = alive.lock(); !held || !*held) return;
  }
}

void MuxIceTransport::onReflexive(const ice::Candidate& host,
                                  std::optional<ice::StunAddress> mapped) {
  auto alive = alive_;
  const bool redundant =
      !mapped || std::any_of(locals_.begin(), locals_.end(),
                             [&](const ice::Candidate& c) { return c.address == *mapped; });
  if (!redundant) {
    ice::Candidate c;
    c.type = ice::CandidateType::ServerReflexive;
    c.address = *mapped;
    c.base = host.base;
    c.priority = ice::candidatePriority(ice::CandidateType::ServerReflexive,
                                        static_cast<std::uint16_t>((host.priority >> 8) & 0xffff));
    c.foundation = "s" + host.foundation;  // one per base and type (5.1.1.3)
    locals_.push_back(c);
    if (agent_) agent_->addLocal(c);
    if (callbacks_.onLocalCandidate) {
      callbacks_.onLocalCandidate(localCandidateLine(c));
      if (!*alive) return;
    }
  }
  if (reflexivePending_ > 0 && --reflexivePending_ == 0) finishGathering();
}

void MuxIceTransport::finishGathering() {
  localDone_ = true;
  if (agent_) agent_->localCandidatesComplete();
  auto alive = alive_;
  if (callbacks_.onGatheringDone) callbacks_.onGatheringDone();
  if (*alive && agent_) drive();
}

void MuxIceTransport::setRemoteCredentials(const std::string& ufrag, const std::string& pwd) {
  if (shutdown_ || agent_) return;
  remoteUfrag_ = ufrag;
  remotePwd_ = pwd;
  startAgent();
}

void MuxIceTransport::setRemoteMuxTag(std::optional<std::uint32_t> tag) {
  remoteTag_ = tag;
  // The peer sends plain DTLS: it is routed by its source address.
  if (!tag && !shutdown_) hub_.untag(id_);
}

void MuxIceTransport::startAgent() {
  ice::IceAgentConfig c;
  c.role = controlling_ ? ice::IceRole::Controlling : ice::IceRole::Controlled;
  c.nomination = config_.aggressiveNomination ? ice::CheckList::Nomination::Aggressive
                                              : ice::CheckList::Nomination::Regular;
  c.tieBreaker = randomBits();
  c.credentials = {ufrag_, pwd_, *remoteUfrag_, *remotePwd_};
  c.ta = std::chrono::milliseconds(std::max(1u, config_.iceCheckPacingMs));
  // Checks on a LAN or loopback answer in well under a millisecond: the first retransmission
  // comes after 100 ms rather than RFC 8489's 500 (libnice waits 100 ms too).
  c.retransmit.initialRto = std::chrono::milliseconds(100);
  if (config_.consentTimeoutMs == 0) {
    c.consent.timeout = std::chrono::hours(24 * 365);  // detection off (configuration.hpp)
  } else {
    c.consent.timeout = std::chrono::milliseconds(config_.consentTimeoutMs);
    c.consent.interval = std::min(c.consent.interval, c.consent.timeout / 6);
  }
  c.random01 = [] { return static_cast<double>(randomBits() >> 11) * 0x1.0p-53; };
  c.transactionId = [] {
    ice::TransactionId id;
    randomBytes(id);
    return id;
  };
  agent_.emplace(std::move(c));
  for (const auto& l : locals_) agent_->addLocal(l);
  for (const auto& r : pendingRemotes_) agent_->addRemote(r);
  pendingRemotes_.clear();
  if (remoteDone_) agent_->remoteCandidatesComplete();
  if (localDone_) agent_->localCandidatesComplete();
  setState(IceState::Checking);
  auto early = std::move(early_);
  early_.clear();
  auto now = ice::Clock::now();
  for (const auto& e : early) {
    if (auto parsed = ice::parseStun(e.datagram))
      agent_->onStun(now, e.localBase, e.source, e.datagram, *parsed);
  }
  drive();
}

bool MuxIceTransport::addRemoteCandidate(const std::string& candidate) {
  IceCandidate parsed = parseCandidate(candidate);  // validates; throws MalformedCandidate
  if (parsed.component != 1 || parsed.transport != "udp") return false;
  if (isMdnsHostname(parsed.address)) return false;  // peer-reflexive discovery finds it
  auto address = parseAddress(parsed.address);
  if (!address) return false;
  address->port = parsed.port;
  ice::Candidate c;
  c.type = parsed.type == "srflx"   ? ice::CandidateType::ServerReflexive
           : parsed.type == "prflx" ? ice::CandidateType::PeerReflexive
           : parsed.type == "relay" ? ice::CandidateType::Relayed
                                    : ice::CandidateType::Host;
  c.address = *address;
  c.base = *address;
  c.priority = parsed.priority;
  c.foundation = parsed.foundation;
  if (shutdown_) return true;
  if (!agent_) {
    if (pendingRemotes_.size() < 64) pendingRemotes_.push_back(c);
    return true;
  }
  bool taken = agent_->addRemote(c);
  drive();
  return taken;
}

void MuxIceTransport::remoteGatheringDone() {
  remoteDone_ = true;
  if (!agent_ || shutdown_) return;
  agent_->remoteCandidatesComplete();
  drive();
}

bool MuxIceTransport::send(const void* data, std::size_t length) {
  if (!selectedSocket_ || shutdown_) return false;
  auto bytes = std::span(static_cast<const std::uint8_t*>(data), length);
  if (!remoteTag_) {
    selectedSocket_->send(selected_->remote, bytes);
    return true;
  }
  // The thread's buffer, not the connection's: the socket copies the datagram before return.
  thread_local std::vector<std::uint8_t> tagged;
  ice::DatagramDemux::writeTagged(*remoteTag_, bytes, tagged);
  selectedSocket_->send(selected_->remote, tagged);
  return true;
}

void MuxIceTransport::onStun(const ice::StunAddress& localBase, const ice::StunAddress& source,
                             std::span<const std::uint8_t> datagram,
                             const ice::ParsedStun& parsed) {
  if (shutdown_) return;
  if (!agent_) {
    // The peer checks before its answer reached us: kept until its credentials are known.
    if (parsed.message.messageClass == ice::StunClass::Request && early_.size() < kMaxEarlyChecks)
      early_.push_back({localBase, source, {datagram.begin(), datagram.end()}});
    return;
  }
  agent_->onStun(ice::Clock::now(), localBase, source, datagram, parsed);
  drive();
}

void MuxIceTransport::onDtls(std::span<const std::uint8_t> datagram) {
  if (shutdown_ || !callbacks_.onData) return;
  callbacks_.onData(datagram.data(), datagram.size());
}

void MuxIceTransport::tick() {
  if (shutdown_ || !agent_) return;
  agent_->tick(ice::Clock::now());
  drive();
}

void MuxIceTransport::drive() {
  auto alive = alive_;
  for (auto& t : agent_->takeTransmits()) {
    try {
      hub_.socket(t.from).send(t.to, t.bytes);
    } catch (const Error&) {
      // A base whose socket cannot be bound sends nothing: its checks time out.
    }
  }
  auto& demux = hub_.demux();
  for (auto& event : agent_->takeEvents()) {
    if (auto* started = std::get_if<ice::TransactionStarted>(&event)) {
      demux.expectResponse(started->id, id_);
    } else if (auto* ended = std::get_if<ice::TransactionEnded>(&event)) {
      demux.forgetResponse(ended->id);
    } else if (auto* selected = std::get_if<ice::PairSelected>(&event)) {
      selected_ = selected->pair;
      demux.allowRemote(id_, selected->pair.remote);
      selectedSocket_ = &hub_.socket(selected->pair.localBase);
      CandidatePairStats stats;
      const auto& list = agent_->checkList();
      for (const auto& l : list.locals())
        if (l.address == selected->pair.local) {
          stats.localCandidate = localCandidateLine(l);
          stats.localType = typeName(l.type);
        }
      for (const auto& r : list.remotes())
        if (r.address == selected->pair.remote) {
          stats.remoteCandidate = candidateLine(r, {});
          stats.remoteType = typeName(r.type);
        }
      selectedStats_ = stats;
      setState(IceState::Connected);
    } else if (std::holds_alternative<ice::IceFailed>(event)) {
      failureReason_ = "ICE failed: no candidate pair answered the connectivity checks";
      selectedSocket_ = nullptr;
      setState(IceState::Failed);
    } else if (std::holds_alternative<ice::ConsentLost>(event)) {
      failureReason_ = "peer unresponsive: no answer to ICE consent checks for " +
                       std::to_string(config_.consentTimeoutMs) + " ms (consent expired)";
      selectedSocket_ = nullptr;
      setState(IceState::Failed);
    }
    if (!*alive) return;
  }
  allowValidRemotes();

  auto due = agent_->nextDeadline();
  if (!due) {
    timer_.cancel();
    timerDue_.reset();
    return;
  }
  auto now = ice::Clock::now();
  if (*due <= now) {
    timer_.cancel();
    timerDue_.reset();
    if (tickPosted_) return;
    tickPosted_ = true;
    loop_.post([this, alive = std::weak_ptr<bool>(alive_)] {
      auto held = alive.lock();
      if (!held || !*held) return;
      tickPosted_ = false;
      tick();
    });
    return;
  }
  if (timerDue_ == due && timer_.active()) return;
  timerDue_ = due;
  auto delay = std::chrono::ceil<std::chrono::milliseconds>(*due - now);
  timer_ = loop_.addTimer(delay, [this] {
    timer_ = IoLoop::Timer();
    timerDue_.reset();
    tick();
    return false;
  });
}

// DTLS from the peer may come before this end selects a pair (its end selected first): a
// valid pair's remote is an address ICE proved, so the demux may take DTLS from it.
void MuxIceTransport::allowValidRemotes() {
  auto& demux = hub_.demux();
  const auto& remotes = agent_->checkList().remotes();
  for (const auto& p : agent_->checkList().pairs())
    if (p.valid) demux.allowRemote(id_, remotes[p.remote].address);
}

void MuxIceTransport::setState(IceState state) {
  if (state_ == state) return;
  state_ = state;
  if (callbacks_.onStateChange) callbacks_.onStateChange(state);
}

}  // namespace ifmesh::rtc
