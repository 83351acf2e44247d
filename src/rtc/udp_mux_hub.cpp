#include "rtc/udp_mux_hub.hpp"

#include "rtc/io_loop.hpp"

namespace ifmesh::rtc {

UdpMuxSocket& UdpMuxHub::socket(const ice::StunAddress& address) {
  auto key = std::make_pair(address.ipv6, address.ip);
  auto& slot = sockets_[key];
  if (!slot) {
    ice::StunAddress any = address;
    any.port = 0;
    try {
      // The receiver is bound to the socket's own address once it exists (below).
      slot = std::make_unique<UdpMuxSocket>(loop_, any, nullptr);
    } catch (...) {
      sockets_.erase(key);
      throw;
    }
    UdpMuxSocket* socket = slot.get();
    socket->setReceiver(
        [this, socket](std::span<const std::uint8_t> datagram, const ice::StunAddress& source) {
          receive(socket->localAddress(), datagram, source);
        });
  }
  return *slot;
}

void appendIceChars(std::string& out, std::uint64_t bits, int count) {
  static constexpr char kChars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < count; ++i, bits >>= 6) out += kChars[bits & 63];
}

std::string UdpMuxHub::freshUfrag() {
  // 8 ice-chars (RFC 8839: at least 4): 48 bits, so fresh ones rarely meet an existing one.
  std::string ufrag;
  appendIceChars(ufrag, random_(), 8);
  return ufrag;
}

std::uint32_t UdpMuxHub::freshTag() {
  std::uint32_t tag = 0;
  while (tag == 0) tag = static_cast<std::uint32_t>(random_());
  return tag;
}

ice::ConnectionId UdpMuxHub::add(Endpoint& endpoint, std::string& ufrag, std::uint32_t& tag,
                                 bool tagged) {
  const ice::ConnectionId id = nextId_++;
  for (;;) {
    ufrag = freshUfrag();
    tag = tagged ? freshTag() : 0;
    if (demux_.add(id, ufrag, tag)) break;  // else a ufrag or tag in use: draw again
  }
  endpoints_[id] = Registered{&endpoint, ufrag, tag};
  return id;
}

void UdpMuxHub::untag(ice::ConnectionId id) {
  auto it = endpoints_.find(id);
  if (it == endpoints_.end() || it->second.tag == 0) return;
  if (demux_.untag(id)) it->second.tag = 0;
}

void UdpMuxHub::remove(ice::ConnectionId id) {
  demux_.remove(id);
  endpoints_.erase(id);
}

void UdpMuxHub::queryReflexive(const ice::StunAddress& localBase, const ice::StunAddress& server,
                               UdpMuxReflexive::Done done) {
  const ice::StunAddress base = socket(localBase).localAddress();
  if (!reflexive_) {
    const ice::ConnectionId id = nextId_++;
    while (!demux_.add(id, freshUfrag(), 0)) {
    }
    reflexiveId_ = id;
    reflexive_ = std::make_unique<UdpMuxReflexive>(
        loop_, demux_, id,
        [this](const ice::StunAddress& from, const ice::StunAddress& to,
               std::span<const std::uint8_t> datagram) { socket(from).send(to, datagram); });
  }
  reflexive_->query(base, server, std::move(done));
}

void UdpMuxHub::receive(const ice::StunAddress& localBase, std::span<const std::uint8_t> datagram,
                        const ice::StunAddress& source) {
  auto d = demux_.classify(datagram, source);
  if (reflexiveId_ != 0 && d.connection == reflexiveId_ && d.kind != ice::Demuxed::Kind::Dropped) {
    if (d.kind == ice::Demuxed::Kind::StunResponse)
      reflexive_->onResponse(localBase, source, d.stun->message);
    else
      ++counters_.dropped;
    return;
  }
  auto it =
      d.kind == ice::Demuxed::Kind::Dropped ? endpoints_.end() : endpoints_.find(d.connection);
  if (it == endpoints_.end()) {
    ++counters_.dropped;
    return;
  }
  if (d.kind == ice::Demuxed::Kind::Dtls)
    it->second.endpoint->onDtls(d.payload);
  else
    it->second.endpoint->onStun(localBase, source, d.payload, *d.stun);
}

}  // namespace ifmesh::rtc
