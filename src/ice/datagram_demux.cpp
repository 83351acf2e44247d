#include "ice/datagram_demux.hpp"

#include <algorithm>
#include <cstring>

namespace ifmesh::ice {

namespace {

Demuxed drop(const char* why) {
  Demuxed d;
  d.dropped = why;
  return d;
}

std::size_t mix(std::size_t h, std::uint64_t v) {
  return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

}  // namespace

std::size_t DatagramDemux::AddressHash::operator()(const StunAddress& a) const {
  std::uint64_t hi = 0, lo = 0;
  std::memcpy(&hi, a.ip.data(), 8);
  std::memcpy(&lo, a.ip.data() + 8, 8);
  return mix(mix(mix(a.ipv6, hi), lo), a.port);
}

std::size_t DatagramDemux::TransactionHash::operator()(const TransactionId& t) const {
  std::uint64_t hi = 0;
  std::uint32_t lo = 0;
  std::memcpy(&hi, t.data(), 8);
  std::memcpy(&lo, t.data() + 8, 4);
  return mix(hi, lo);
}

bool DatagramDemux::add(ConnectionId id, const std::string& localUfrag, std::uint32_t muxTag) {
  if (entries_.count(id) || localUfrag.empty() || byUfrag_.count(localUfrag) ||
      (muxTag != 0 && byTag_.count(muxTag)))
    return false;
  entries_[id] = Entry{localUfrag, muxTag, {}};
  byUfrag_[localUfrag] = id;
  if (muxTag != 0) byTag_[muxTag] = id;
  return true;
}

void DatagramDemux::remove(ConnectionId id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  byUfrag_.erase(it->second.ufrag);
  if (it->second.tag != 0) byTag_.erase(it->second.tag);
  for (const auto& r : it->second.remotes) {
    auto a = byAddress_.find(r);
    if (a != byAddress_.end() && a->second == id) byAddress_.erase(a);
  }
  std::erase_if(byTransaction_, [&](const auto& t) { return t.second == id; });
  entries_.erase(it);
}

bool DatagramDemux::untag(ConnectionId id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  auto& e = it->second;
  if (e.tag == 0) return true;
  for (const auto& r : e.remotes) {
    auto at = byAddress_.find(r);
    if (at != byAddress_.end() && at->second != id) return false;
  }
  for (const auto& r : e.remotes) byAddress_[r] = id;
  byTag_.erase(e.tag);
  e.tag = 0;
  return true;
}

bool DatagramDemux::allowRemote(ConnectionId id, const StunAddress& remote) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  auto& e = it->second;
  if (std::find(e.remotes.begin(), e.remotes.end(), remote) != e.remotes.end()) return true;
  if (e.tag == 0) {
    auto [at, inserted] = byAddress_.try_emplace(remote, id);
    if (!inserted && at->second != id) return false;
  }
  e.remotes.push_back(remote);
  return true;
}

void DatagramDemux::expectResponse(const TransactionId& transaction, ConnectionId id) {
  if (entries_.count(id)) byTransaction_[transaction] = id;
}

void DatagramDemux::forgetResponse(const TransactionId& transaction) {
  byTransaction_.erase(transaction);
}

bool DatagramDemux::allowed(const Entry& entry, const StunAddress& source) const {
  return std::find(entry.remotes.begin(), entry.remotes.end(), source) != entry.remotes.end();
}

void DatagramDemux::writeTagged(std::uint32_t peerTag, std::span<const std::uint8_t> payload,
                                std::vector<std::uint8_t>& out) {
  out.resize(kMuxTagBytes + payload.size());
  out[0] = kMuxTagByte;
  for (std::size_t i = 1; i < kMuxTagBytes; ++i)
    out[i] = static_cast<std::uint8_t>(peerTag >> (8 * (kMuxTagBytes - 1 - i)));
  std::copy(payload.begin(), payload.end(), out.begin() + kMuxTagBytes);
}

std::vector<std::uint8_t> DatagramDemux::tagged(std::uint32_t peerTag,
                                                std::span<const std::uint8_t> payload) {
  std::vector<std::uint8_t> out;
  writeTagged(peerTag, payload, out);
  return out;
}

Demuxed DatagramDemux::stun(std::span<const std::uint8_t> datagram,
                            const StunAddress& source) const {
  auto parsed = parseStun(datagram);
  if (!parsed) return drop("malformed STUN");
  Demuxed d;
  d.payload = datagram;
  const auto& m = parsed->message;
  switch (m.messageClass) {
    case StunClass::Request: {
      const StunAttribute* username = m.find(stun_attribute::kUsername);
      if (!username) return drop("STUN request without USERNAME");
      std::string_view name(reinterpret_cast<const char*>(username->value.data()),
                            username->value.size());
      auto colon = name.find(':');
      if (colon == std::string_view::npos) return drop("USERNAME without ':'");
      auto it = byUfrag_.find(std::string(name.substr(0, colon)));
      if (it == byUfrag_.end()) return drop("STUN request for an unknown ufrag");
      d.kind = Demuxed::Kind::StunRequest;
      d.connection = it->second;
      break;
    }
    case StunClass::Success:
    case StunClass::Error: {
      auto it = byTransaction_.find(m.transactionId);
      if (it == byTransaction_.end()) return drop("STUN response to no check in flight");
      d.kind = Demuxed::Kind::StunResponse;
      d.connection = it->second;
      break;
    }
    case StunClass::Indication: {
      // Keepalives carry neither USERNAME nor a transaction of ours: only an address that one
      // connection holds names them. From an address tagged connections share, they are
      // dropped: a keepalive asks for nothing, and naming its connection would cost a search.
      auto it = byAddress_.find(source);
      if (it == byAddress_.end())
        return drop("STUN indication from no single connection's address");
      d.kind = Demuxed::Kind::StunIndication;
      d.connection = it->second;
      break;
    }
  }
  d.stun = std::move(parsed);
  return d;
}

Demuxed DatagramDemux::classify(std::span<const std::uint8_t> datagram,
                                const StunAddress& source) const {
  if (datagram.empty()) return drop("empty datagram");
  const std::uint8_t first = datagram[0];
  if (first <= 3) {
    if (!looksLikeStun(datagram)) return drop("not STUN");
    return stun(datagram, source);
  }
  if (first == kMuxTagByte) {
    if (datagram.size() <= kMuxTagBytes) return drop("short mux tag");
    std::uint32_t tag = 0;
    for (std::size_t i = 1; i < kMuxTagBytes; ++i) tag = (tag << 8) | datagram[i];
    auto it = byTag_.find(tag);
    if (it == byTag_.end()) return drop("unknown mux tag");
    if (!allowed(entries_.at(it->second), source)) return drop("mux tag from an unproven address");
    auto payload = datagram.subspan(kMuxTagBytes);
    if (payload[0] < 20 || payload[0] > 63) return drop("mux tag before no DTLS record");
    Demuxed d;
    d.kind = Demuxed::Kind::Dtls;
    d.connection = it->second;
    d.payload = payload;
    return d;
  }
  if (first >= 20 && first <= 63) {
    auto it = byAddress_.find(source);
    if (it == byAddress_.end()) return drop("DTLS from an unknown address");
    Demuxed d;
    d.kind = Demuxed::Kind::Dtls;
    d.connection = it->second;
    d.payload = datagram;
    return d;
  }
  return drop("unknown first byte");
}

}  // namespace ifmesh::ice
