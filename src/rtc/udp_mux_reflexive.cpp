#include "rtc/udp_mux_reflexive.hpp"

#include <openssl/rand.h>

#include <utility>

#include "ifmesh/error.hpp"

namespace ifmesh::rtc {

UdpMuxReflexive::UdpMuxReflexive(IoLoop& loop, ice::DatagramDemux& demux, ice::ConnectionId id,
                                 Send send)
    : loop_(loop), demux_(demux), id_(id), send_(std::move(send)) {}

UdpMuxReflexive::Entry& UdpMuxReflexive::entry(const ice::StunAddress& localBase,
                                               const ice::StunAddress& server) {
  for (auto& e : entries_)
    if (e->localBase == localBase && e->server == server) return *e;
  auto& e = entries_.emplace_back(std::make_unique<Entry>());
  e->localBase = localBase;
  e->server = server;
  return *e;
}

void UdpMuxReflexive::query(const ice::StunAddress& localBase, const ice::StunAddress& server,
                            Done done) {
  Entry& e = entry(localBase, server);
  if (!e.query && e.mapped && Clock::now() - e.answeredAt < kLifetime) {
    ++counters_.fromCache;
    done(e.mapped);
    return;
  }
  e.waiting.push_back(std::move(done));
  if (e.query) return;
  ice::TransactionId transaction;
  if (RAND_bytes(transaction.data(), static_cast<int>(transaction.size())) != 1)
    throw Error(Errc::Internal, "RAND_bytes failed");
  e.mapped.reset();
  e.query.emplace(server, transaction);
  demux_.expectResponse(transaction, id_);
  pump(e);
}

void UdpMuxReflexive::onResponse(const ice::StunAddress& localBase, const ice::StunAddress& source,
                                 const ice::StunMessage& message) {
  for (auto& e : entries_) {
    if (!e->query || e->localBase != localBase) continue;
    if (e->query->onMessage(source, message)) {
      finish(*e);
      return;
    }
  }
}

void UdpMuxReflexive::pump(Entry& e) {
  auto now = Clock::now();
  if (auto datagram = e.query->poll(now)) {
    ++counters_.requests;
    send_(e.localBase, e.server, *datagram);
  }
  auto due = e.query->deadline();
  if (!due) {
    finish(e);
    return;
  }
  auto delay = std::max(std::chrono::milliseconds(1),
                        std::chrono::ceil<std::chrono::milliseconds>(*due - now));
  Entry* target = &e;  // entries live as long as this object, which owns the timer
  e.timer = loop_.addTimer(delay, [this, target] {
    target->timer = IoLoop::Timer();
    pump(*target);
    return false;
  });
}

void UdpMuxReflexive::finish(Entry& e) {
  e.timer.cancel();
  demux_.forgetResponse(e.query->transaction());
  if (e.query->state() == ice::ServerReflexiveQuery::State::Succeeded) {
    ++counters_.answered;
    e.mapped = e.query->mapped();
    e.answeredAt = Clock::now();
  } else {
    ++counters_.failed;
  }
  e.query.reset();
  // A callback may ask again (and so add to this entry): the waiting list is taken first.
  auto waiting = std::move(e.waiting);
  e.waiting.clear();
  auto mapped = e.mapped;
  for (auto& done : waiting) done(mapped);
}

}  // namespace ifmesh::rtc
