#include "ifmesh/witness.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace ifmesh {

std::string isoTimestampNow() {
  return isoTimestamp(std::chrono::system_clock::now());
}

std::string isoTimestamp(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::string newTraceId() {
  unsigned char bytes[16];
  RAND_bytes(bytes, sizeof bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

std::string sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
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
  sinks_.push_back(std::move(sink));
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
