#pragma once
// The audit trail: structured events to callbacks and to an append-only JSON-lines file in which
// every record carries the SHA-256 of the previous one, so an altered, removed or reordered
// record is detectable (verifyWitnessFile).
#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ifmesh/export.hpp"

namespace ifmesh {

struct WitnessEvent {
  std::string event;
  std::string agentId;
  std::string peerId;
  std::string traceId;
  std::string timestamp;  // ISO 8601 UTC, milliseconds
  nlohmann::json metadata = nlohmann::json::object();
};

IFMESH_API std::string isoTimestamp(std::chrono::system_clock::time_point t);  // UTC, milliseconds
IFMESH_API std::string isoTimestampNow();
IFMESH_API std::string newTraceId();  // 128 random bits, hex

class IFMESH_API WitnessSink {
 public:
  virtual ~WitnessSink() = default;
  virtual void record(const WitnessEvent& event) = 0;
  virtual void flush() {}
};

class IFMESH_API CallbackWitnessSink : public WitnessSink {
 public:
  explicit CallbackWitnessSink(std::function<void(const WitnessEvent&)> fn) : fn_(std::move(fn)) {}
  void record(const WitnessEvent& event) override { fn_(event); }

 private:
  std::function<void(const WitnessEvent&)> fn_;
};

// record() only queues; one writer thread per file hashes and appends in batches, so the message
// path never waits for the disk. flush() returns once everything queued is written.
namespace detail {
class FileWitnessWriter;
}

class IFMESH_API FileWitnessSink : public WitnessSink {
 public:
  // Appends, continuing an existing chain. Throws Error(Io) when the file cannot be opened or
  // its last record is corrupt (a torn last line is cut and the cut recorded).
  explicit FileWitnessSink(const std::string& path);
  ~FileWitnessSink() override;
  void record(const WitnessEvent& event) override;
  void flush() override;

 private:
  std::unique_ptr<detail::FileWitnessWriter> writer_;
};

class IFMESH_API Witness {
 public:
  void addSink(std::shared_ptr<WitnessSink> sink);
  void emit(const std::string& event, const std::string& agentId, const std::string& peerId,
            nlohmann::json metadata = nlohmann::json::object(), std::string traceId = "");
  void flush();

 private:
  std::mutex mutex_;
  std::vector<std::shared_ptr<WitnessSink>> sinks_;
};

// What verification proves: every record is unaltered, in order, and none is missing between the
// first and the last. It cannot prove that no record was cut from the end (the shorter file is a
// valid chain): compare `records` or `headHash` with values kept elsewhere for that.
struct VerifyResult {
  bool ok = false;
  std::size_t records = 0;
  // SHA-256 (hex) of the last verified record's line: the prev_hash the next record must carry.
  std::string headHash;
  std::optional<std::size_t> firstBadLine;  // 1-based
  std::string reason;
};
IFMESH_API VerifyResult verifyWitnessFile(const std::string& path);
// The same check over JSON lines already in memory or on any stream.
IFMESH_API VerifyResult verifyWitnessStream(std::istream& in);

// The record as written to the file, without its "hash" (which is computed over this).
IFMESH_API nlohmann::json witnessRecord(const WitnessEvent& event, std::uint64_t seq,
                                        const std::string& prevHash);
IFMESH_API std::string sha256Hex(const std::string& data);

}  // namespace ifmesh
