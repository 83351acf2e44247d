#include "ifmesh/witness.hpp"

#include <openssl/evp.h>

#include <charconv>
#include <chrono>
#include <string>

#include "hex.hpp"
#include "random_batch.hpp"

namespace ifmesh {

std::string isoTimestampNow() {
  return isoTimestamp(std::chrono::system_clock::now());
}

namespace {

// `value` in decimal, zero-padded to at least `width` digits (like %0*d for a non-negative int).
void appendPadded(std::string& out, long long value, int width) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  for (auto n = end - digits; n < width; ++n) out += '0';
  out.append(digits, end);
}

}  // namespace

// By hand rather than gmtime_r + snprintf: this runs for every message sent, and gmtime_r takes
// glibc's time-zone lock.
std::string isoTimestamp(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto dayStart = floor<days>(ms);
  const year_month_day date{dayStart};
  const hh_mm_ss time{ms - dayStart};
  std::string out;
  out.reserve(24);
  appendPadded(out, static_cast<int>(date.year()), 4);
  out += '-';
  appendPadded(out, static_cast<unsigned>(date.month()), 2);
  out += '-';
  appendPadded(out, static_cast<unsigned>(date.day()), 2);
  out += 'T';
  appendPadded(out, time.hours().count(), 2);
  out += ':';
  appendPadded(out, time.minutes().count(), 2);
  out += ':';
  appendPadded(out, time.seconds().count(), 2);
  out += '.';
  appendPadded(out, time.subseconds().count(), 3);
  out += 'Z';
  return out;
}

std::string newTraceId() {
  unsigned char bytes[16];
  detail::randomBytes(bytes, sizeof bytes);
  std::string out;
  detail::appendHex(out, bytes, sizeof bytes);
  return out;
}

std::string sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  std::string out;
  detail::appendHex(out, digest, length);
  return out;
}

nlohmann::json witnessRecord(const WitnessEvent& e, std::uint64_t seq,
                             const std::string& prevHash) {
  return {{"seq", seq},
          {"event", e.event},
          {"agent_id", e.agentId},
          {"peer_id", e.peerId},
          {"trace_id", e.traceId},
          {"timestamp", e.timestamp},
          {"metadata", e.metadata},
          {"prev_hash", prevHash}};
}

void Witness::addSink(std::shared_ptr<WitnessSink> sink) {
  std::lock_guard lock(mutex_);
  if (signer_) sink->useSigner(*signer_);
  sinks_.push_back(std::move(sink));
}

void Witness::setSigner(const WitnessSigner& signer) {
  // Under the lock, so that a sink added meanwhile is handed the signer exactly once; handing
  // it over only queues a record.
  std::lock_guard lock(mutex_);
  if (signer_) return;
  signer_ = signer;
  for (auto& sink : sinks_) sink->useSigner(*signer_);
}

std::optional<WitnessHead> Witness::signedHead() {
  std::lock_guard lock(mutex_);
  for (auto& sink : sinks_)
    if (auto head = sink->signedHead()) return head;
  return std::nullopt;
}

bool Witness::wantsEvents() {
  std::lock_guard lock(mutex_);
  for (auto& sink : sinks_)
    if (sink->wantsEvents()) return true;
  return false;
}

void Witness::emit(const std::string& event, const std::string& agentId, const std::string& peerId,
                   nlohmann::json metadata, std::string traceId) {
  WitnessEvent e{event,
                 agentId,
                 peerId,
                 traceId.empty() ? newTraceId() : std::move(traceId),
                 isoTimestampNow(),
                 std::move(metadata)};
  std::vector<std::shared_ptr<WitnessSink>> sinks;
  {
    std::lock_guard lock(mutex_);
    sinks = sinks_;
  }
  for (auto& sink : sinks) sink->record(e);
}

void Witness::flush() {
  std::vector<std::shared_ptr<WitnessSink>> sinks;
  {
    std::lock_guard lock(mutex_);
    sinks = sinks_;
  }
  for (auto& sink : sinks) sink->flush();
}

}  // namespace ifmesh
