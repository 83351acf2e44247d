#pragma once
// The audit trail: structured events to callbacks and to an append-only JSON-lines file in which
// every record carries the SHA-256 of the previous one, so an altered, removed or reordered
// record is detectable (verifyWitnessFile), and in which the chain's head is signed with an
// Ed25519 key, so that a rewritten log does not verify without that key (docs/witness.md).
#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "ifmesh/export.hpp"

namespace ifmesh {

class AgentIdentity;

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

// The key that signs a witness log's head: an Ed25519 key pair, as AgentIdentity holds it.
struct WitnessSigner {
  std::string publicKey;  // base64 of the raw 32-byte public key (AgentIdentity::publicKey)
  // The base64 Ed25519 signature of `data` by that key; may throw.
  std::function<std::string(std::string_view data)> sign;
  std::string agentId;  // whose key it is, written beside it in the log
};
// Signs with `identity` (a copy of it: the signer outlives the agent that made it).
IFMESH_API WitnessSigner witnessSigner(const AgentIdentity& identity, std::string agentId = "");

// The latest signed record of a witness log, the part of it another agent can keep as evidence
// that the log reached this far (cross-witnessing, docs/witness.md).
struct WitnessHead {
  std::uint64_t seq = 0;
  std::string hash;       // the record's "hash"
  std::string sig;        // its "sig": the Ed25519 signature of witnessSignedBytes(hash)
  std::string publicKey;  // the key that made it (base64, as WitnessSigner::publicKey)
  // Records up to this one that are not kPeerWitnessHeadEvent: it grows only when the log
  // recorded something besides the heads other agents showed it, so two agents showing each
  // other their heads do not keep each other's logs growing.
  std::uint64_t events = 0;
};
// The event an agent records for a head another agent showed it: peer_id, and in metadata the
// head's seq, hash and sig.
inline constexpr const char* kPeerWitnessHeadEvent = "peer_witness_head";

class IFMESH_API WitnessSink {
 public:
  virtual ~WitnessSink() = default;
  virtual void record(const WitnessEvent& event) = 0;
  virtual void flush() {}
  // Signs what it writes from here on with `signer`, unless it already has a signer. Sinks that
  // write nothing signable ignore it.
  virtual void useSigner(const WitnessSigner& signer) { (void)signer; }
  // The latest signed record written (and handed to the kernel) by this sink, if any.
  virtual std::optional<WitnessHead> signedHead() const { return std::nullopt; }
  // Whether the sink takes events now. While no sink of a Witness does, an agent does not build
  // its per-message events (ifmessage_sent, ifmessage_received); other events still reach
  // record(). Any thread.
  virtual bool wantsEvents() const { return true; }
};

class IFMESH_API CallbackWitnessSink : public WitnessSink {
 public:
  explicit CallbackWitnessSink(std::function<void(const WitnessEvent&)> fn) : fn_(std::move(fn)) {}
  void record(const WitnessEvent& event) override { fn_(event); }

 private:
  std::function<void(const WitnessEvent&)> fn_;
};

// The events a FileWitnessSink writes before record() returns, by default: the ones that say
// someone tried something (a failed link proof, a refused key or link, a rejected message).
IFMESH_API std::set<std::string> defaultSyncWitnessEvents();

struct FileWitnessOptions {
  // Signs the chain's head with this key. Without one the log is a hash chain only until a
  // signer is handed over (useSigner; an Agent hands over its identity).
  std::optional<WitnessSigner> signer;
  // The writer signs the last record of every batch it writes (so a log that is flushed, closed
  // or merely idle ends with a signed record) and, within a batch, at least every signEvery-th
  // record: records written but not yet signed when the process dies are at most signEvery - 1.
  // 1 signs every record. A signature costs the writer thread about one Ed25519 signing.
  std::size_t signEvery = 64;
  // These events are written, signed and handed to the kernel (fflush) before record() returns,
  // so a process killed at any later moment leaves them in the file. The caller waits for the
  // writer thread: keep to events that are rare or that matter.
  std::set<std::string> syncEvents = defaultSyncWitnessEvents();
  // Also fdatasync() after writing a sync event: it survives a power loss or kernel crash, at
  // the cost of a disk round trip per such event.
  bool syncToDisk = false;
};

// record() only queues, except for the options' syncEvents; one writer thread per file hashes,
// signs and appends in batches, so the message path never waits for the disk. flush() returns
// once everything queued is written.
namespace detail {
class FileWitnessWriter;
}

class IFMESH_API FileWitnessSink : public WitnessSink {
 public:
  // Appends, continuing an existing chain. Throws Error(Io) when the file cannot be opened or
  // its last record is corrupt (a torn last line is cut and the cut recorded), and
  // Error(InvalidArgument) for signEvery 0. With a signer, the first record it writes names the
  // signer's public key (event witness_signing_key) and is signed by it.
  explicit FileWitnessSink(const std::string& path, FileWitnessOptions options = {});
  ~FileWitnessSink() override;
  void record(const WitnessEvent& event) override;
  void flush() override;
  void useSigner(const WitnessSigner& signer) override;
  // Only records signed by the signer this sink writes with: none before its key record.
  std::optional<WitnessHead> signedHead() const override;

 private:
  std::unique_ptr<detail::FileWitnessWriter> writer_;
};

class IFMESH_API Witness {
 public:
  // A sink added after setSigner is handed the signer too.
  void addSink(std::shared_ptr<WitnessSink> sink);
  void emit(const std::string& event, const std::string& agentId, const std::string& peerId,
            nlohmann::json metadata = nlohmann::json::object(), std::string traceId = "");
  void flush();
  // Hands `signer` to every sink (WitnessSink::useSigner). Only the first signer counts: agents
  // that share a Witness sign its logs with the first agent's key.
  void setSigner(const WitnessSigner& signer);
  // The signed head of the first sink that has one (WitnessSink::signedHead).
  std::optional<WitnessHead> signedHead();
  // Whether any sink wants events now (WitnessSink::wantsEvents).
  bool wantsEvents();

 private:
  std::mutex mutex_;
  std::vector<std::shared_ptr<WitnessSink>> sinks_;
  std::optional<WitnessSigner> signer_;
};

struct VerifyOptions {
  // Base64 Ed25519 public keys (AgentIdentity::publicKey) the log must be signed with: a key
  // record naming any other key fails, and so does a log with no signature. Empty: the keys the
  // log names are taken as they are (which a rewriter holding any key can also do).
  std::vector<std::string> trustedKeys;
};

// What verification proves: every record is unaltered, in order, and none is missing between the
// first and the last; every signature verifies with the key the log names before it (and that
// key is a trusted one, when any are given). Records after the last signature are proven only by
// the hash chain: anyone able to write the file could have changed, cut or added them. Cutting
// the log back to a signed record cannot be seen in the file: compare `records` or `headHash`
// with values kept elsewhere for that.
struct VerifyResult {
  bool ok = false;
  std::size_t records = 0;
  // SHA-256 (hex) of the last verified record's line: the prev_hash the next record must carry.
  std::string headHash;
  std::optional<std::size_t> firstBadLine;  // 1-based
  std::string reason;
  std::size_t signatures = 0;     // valid signatures
  std::size_t signedRecords = 0;  // records 1..signedRecords are covered by a signature
  std::size_t unsignedTail = 0;   // records after the last signature
  std::vector<std::string> keys;  // the signing keys the log names, in order of appearance
  bool keysPinned = false;        // the keys were checked against VerifyOptions::trustedKeys
};
IFMESH_API VerifyResult verifyWitnessFile(const std::string& path,
                                          const VerifyOptions& options = {});
// The same check over JSON lines already in memory or on any stream.
IFMESH_API VerifyResult verifyWitnessStream(std::istream& in, const VerifyOptions& options = {});

// What `ifmesh witness verify --peer-log` checks: the heads other agents recorded of a log
// (kPeerWitnessHeadEvent records in their own logs) against the log itself. A head counts as
// evidence only when its signature verifies with one of `keys` (base64; empty: the keys the log
// names), so a peer cannot make up a head the log's agent never signed.
struct PeerLogCheck {
  std::string path;
  bool usable = false;           // the peer log's own hash chain verifies
  std::string reason;            // why not
  std::size_t heads = 0;         // heads of the log in it, with a valid signature
  std::size_t unverifiable = 0;  // heads naming the log's agent whose signature does not verify
  std::uint64_t latestSeq = 0;   // the highest seq among `heads`
  std::vector<std::string> findings;  // "truncated: ..." or "rewritten at seq N: ..."
};
struct CrossCheckResult {
  bool ok = false;               // every peer log usable, no finding
  std::uint64_t logRecords = 0;  // the highest seq the log holds
  std::vector<PeerLogCheck> peers;
};
IFMESH_API CrossCheckResult crossCheckWitnessFile(const std::string& path,
                                                  const std::vector<std::string>& peerLogs,
                                                  const std::vector<std::string>& keys = {});

// The record as written to the file, without its "hash" (which is computed over this) and its
// "sig" (present on signed records: the Ed25519 signature of witnessSignedBytes(hash)).
IFMESH_API nlohmann::json witnessRecord(const WitnessEvent& event, std::uint64_t seq,
                                        const std::string& prevHash);
IFMESH_API std::string sha256Hex(const std::string& data);
// What a record's "sig" signs: its "hash", behind a prefix no other signature of the agent's key
// (messages, hellos) begins with.
IFMESH_API std::string witnessSignedBytes(std::string_view recordHash);

}  // namespace ifmesh
