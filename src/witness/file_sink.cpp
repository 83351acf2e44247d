#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "ifmesh/error.hpp"
#include "ifmesh/identity.hpp"
#include "ifmesh/witness.hpp"

namespace ifmesh {

namespace {

const std::string kGenesis(64, '0');

// The record's JSON line (without its newline), signed when `signer` is given. Strings that are
// not valid UTF-8 (text cut inside a character, bytes from a peer) are written with U+FFFD in
// place of the bad bytes, so the line is valid UTF-8 and verifies like any other. A signer that
// fails leaves the record unsigned: the next signature covers it.
// `hash` and `sig` receive the record's hash and its signature (empty: not signed).
std::string recordLine(const WitnessEvent& event, std::uint64_t seq, const std::string& prevHash,
                       const WitnessSigner* signer, std::string& hash, std::string& sig) {
  using Json = nlohmann::json;
  Json record = witnessRecord(event, seq, prevHash);
  hash = sha256Hex(record.dump(-1, ' ', false, Json::error_handler_t::replace));
  record["hash"] = hash;
  sig.clear();
  if (signer) {
    try {
      sig = signer->sign(witnessSignedBytes(hash));
      record["sig"] = sig;
    } catch (const std::exception&) {
      sig.clear();
    }
  }
  return record.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool isKeyRecord(const nlohmann::json& record) {
  auto event = record.find("event");
  return event != record.end() && *event == "witness_signing_key";
}

// The key a witness_signing_key record names, if it names a valid one.
std::optional<PublicKey> namedKey(const nlohmann::json& record) {
  auto meta = record.find("metadata");
  if (meta == record.end() || !meta->is_object()) return std::nullopt;
  auto key = meta->find("public_key");
  if (key == meta->end() || !key->is_string()) return std::nullopt;
  return PublicKey::parse(key->get<std::string>());
}

// True when `line` is an intact record that follows the record whose hash is `prevHash`, with
// sequence number `seq`: its hash matches its content, it names that predecessor, and a
// signature it carries verifies with `key` (the key the file named last), as verifyWitnessFile
// will check.
bool continuesChain(const std::string& line, const std::string& prevHash, std::uint64_t seq,
                    const std::optional<PublicKey>& key) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  auto hash = j.find("hash");
  if (hash == j.end() || !hash->is_string()) return false;
  const std::string claimed = *hash;
  j.erase("hash");
  std::optional<std::string> sig;
  if (auto it = j.find("sig"); it != j.end()) {
    if (!it->is_string()) return false;
    sig = it->get<std::string>();
    j.erase(it);
  }
  auto prev = j.find("prev_hash");
  auto number = j.find("seq");
  if (sha256Hex(j.dump()) != claimed || prev == j.end() || *prev != prevHash || number == j.end() ||
      !number->is_number_unsigned() || number->get<std::uint64_t>() != seq)
    return false;
  std::optional<PublicKey> signer = key;
  if (isKeyRecord(j)) {
    signer = namedKey(j);
    if (!signer || !sig) return false;
  }
  return !sig || (signer && signer->verify(witnessSignedBytes(claimed), *sig));
}

WitnessEvent signingKeyEvent(const WitnessSigner& signer) {
  WitnessEvent e;
  e.event = "witness_signing_key";
  e.agentId = signer.agentId;
  e.timestamp = isoTimestampNow();
  e.metadata = {{"algorithm", "Ed25519"}, {"public_key", signer.publicKey}};
  return e;
}

}  // namespace

std::set<std::string> defaultSyncWitnessEvents() {
  return {"peer_auth_failed", "peer_key_rejected", "link_refused", "ifmessage_rejected",
          "witness_torn_record_discarded"};
}

namespace detail {

// The state behind a FileWitnessSink: the queue, and the thread that hashes and appends.
class FileWitnessWriter {
 public:
  FileWitnessWriter(const std::string& path, FileWitnessOptions options);
  ~FileWitnessWriter();
  void record(const WitnessEvent& event);
  void flush();
  void useSigner(const WitnessSigner& signer);
  std::optional<WitnessHead> signedHead();

 private:
  struct Item {
    WitnessEvent event;
    bool sync = false;  // one of the options' syncEvents: its caller waits until it is written
    // Set on the record naming a new signing key: the writer signs with it from that record on.
    std::shared_ptr<const WitnessSigner> signer;
  };
  void run();
  void enqueue(Item item);  // with mutex_ held
  void waitWritten(std::unique_lock<std::mutex>& lock, std::uint64_t target);

  std::string path_;
  FileWitnessOptions options_;
  std::mutex mutex_;
  std::condition_variable wake_, drained_;
  std::deque<Item> queue_;
  std::uint64_t enqueued_ = 0, written_ = 0;
  bool stop_ = false;
  bool hasSigner_ = false;           // a signer was queued (under mutex_)
  std::optional<WitnessHead> head_;  // the last signed record written and flushed (under mutex_)
  // The writer thread's own state.
  std::uint64_t seq_ = 0;
  std::string prevHash_;
  std::shared_ptr<const WitnessSigner> signer_;
  std::size_t sinceSignature_ = 0;  // records written since the last signed one
  std::uint64_t events_ = 0;        // records written that are not peer heads (WitnessHead)
  std::thread writer_;
};

FileWitnessWriter::FileWitnessWriter(const std::string& path, FileWitnessOptions options)
    : path_(path), options_(std::move(options)), prevHash_(kGenesis) {
  if (options_.signEvery == 0)
    throw Error(Errc::InvalidArgument, "witness file " + path + ": signEvery must be at least 1");
  // Continue the chain of an existing file from its last record. A last line without its
  // newline is a write that a crash cut short: it is cut off (and the cut is itself recorded),
  // unless it is a whole record, which only missed its newline. A corrupt record that did end
  // with a newline is not a torn write: the file is refused, never rewritten.
  std::ifstream in(path, std::ios::binary);
  std::string line, last, torn;
  std::uint64_t completeBytes = 0, lineNo = 0, lastLineNo = 0;
  std::optional<PublicKey> lastKey;  // named by the last key record, to check a torn line's sig
  while (std::getline(in, line)) {
    if (in.eof()) {
      torn = line;
      break;
    }
    ++lineNo;
    completeBytes += line.size() + 1;
    if (!line.empty()) {
      last = line;
      lastLineNo = lineNo;
    }
    // Only key records are parsed: opening a long log stays a read, not a parse, of the file.
    if (line.find("\"witness_signing_key\"") != std::string::npos) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.is_object() && isKeyRecord(j)) lastKey = namedKey(j);
    }
  }
  in.close();
  auto chainedSeq = [](const std::string& text) -> std::optional<std::uint64_t> {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("seq") ||
        !j["seq"].is_number_unsigned() || !j.contains("hash"))
      return std::nullopt;
    return j["seq"].get<std::uint64_t>();
  };
  if (!last.empty()) {
    auto seq = chainedSeq(last);
    if (!seq)
      throw Error(Errc::Io, "witness file " + path + ": the record at line " +
                                std::to_string(lastLineNo) +
                                " is corrupt and is not a torn write (it ends with a newline); "
                                "check it with `ifmesh witness verify " +
                                path + "` and move the file aside to start a new log");
    seq_ = *seq;
    prevHash_ = sha256Hex(last);
  }
  if (!torn.empty()) {
    if (continuesChain(torn, prevHash_, seq_ + 1, lastKey)) {
      // A whole, intact record that missed only its newline: keep it.
      std::ofstream(path, std::ios::binary | std::ios::app) << '\n';
      ++seq_;
      prevHash_ = sha256Hex(torn);
    } else {
      std::error_code ec;
      std::filesystem::resize_file(path, completeBytes, ec);
      if (ec)
        throw Error(Errc::Io,
                    "witness file " + path + ": cannot cut its torn last line: " + ec.message());
      WitnessEvent cut;
      cut.event = "witness_torn_record_discarded";
      cut.timestamp = isoTimestampNow();
      cut.metadata = {{"bytes", torn.size()}, {"sha256", sha256Hex(torn)}};
      enqueue({std::move(cut), false, nullptr});
    }
  }
  if (options_.signer) useSigner(*options_.signer);
  std::unique_ptr<FILE, int (*)(FILE*)> probe(std::fopen(path.c_str(), "a"), &std::fclose);
  if (!probe) throw Error(Errc::Io, "cannot open witness file " + path);
  writer_ = std::thread([this] { run(); });
}

FileWitnessWriter::~FileWitnessWriter() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  writer_.join();
}

void FileWitnessWriter::enqueue(Item item) {
  queue_.push_back(std::move(item));
  ++enqueued_;
}

void FileWitnessWriter::waitWritten(std::unique_lock<std::mutex>& lock, std::uint64_t target) {
  drained_.wait(lock, [&] { return written_ >= target; });
}

void FileWitnessWriter::record(const WitnessEvent& event) {
  // The set is empty when no event is synchronous: no lookup then.
  const bool sync = !options_.syncEvents.empty() && options_.syncEvents.contains(event.event);
  std::unique_lock lock(mutex_);
  enqueue({event, sync, nullptr});
  const std::uint64_t target = enqueued_;
  lock.unlock();
  wake_.notify_one();
  if (!sync) return;
  // The writer signs the last record of each batch and flushes the batch before counting it
  // written, so once counted this event is signed (or covered by a later signature in its
  // batch) and in the kernel's hands.
  lock.lock();
  waitWritten(lock, target);
}

void FileWitnessWriter::flush() {
  std::unique_lock lock(mutex_);
  waitWritten(lock, enqueued_);
}

void FileWitnessWriter::useSigner(const WitnessSigner& signer) {
  {
    std::lock_guard lock(mutex_);
    if (hasSigner_ || !signer.sign) return;
    hasSigner_ = true;
    enqueue({signingKeyEvent(signer), false, std::make_shared<const WitnessSigner>(signer)});
  }
  wake_.notify_one();
}

std::optional<WitnessHead> FileWitnessWriter::signedHead() {
  std::lock_guard lock(mutex_);
  return head_;
}

void FileWitnessWriter::run() {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path_.c_str(), "a"), &std::fclose);
  for (;;) {
    std::deque<Item> batch;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty() && stop_) return;
      batch.swap(queue_);
    }
    bool syncInBatch = false;
    std::optional<WitnessHead> batchHead;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const WitnessEvent& event = batch[i].event;
      syncInBatch = syncInBatch || batch[i].sync;
      if (batch[i].signer) signer_ = batch[i].signer;
      // A key record is signed by its key (proof that the writer holds it); the batch's last
      // record is signed so that a log the writer has caught up with ends signed.
      const bool sign = signer_ && (batch[i].signer || i + 1 == batch.size() ||
                                    sinceSignature_ + 1 >= options_.signEvery);
      const WitnessSigner* signer = sign ? signer_.get() : nullptr;
      std::string line, hash, sig;
      bool counts = event.event != kPeerWitnessHeadEvent;
      try {
        line = recordLine(event, seq_ + 1, prevHash_, signer, hash, sig);
      } catch (const std::exception& e) {
        // Nothing may escape this thread (it would end the process). The event is replaced by
        // a record that says it could not be written, so the chain shows the gap.
        WitnessEvent failed;
        failed.event = "witness_record_failed";
        failed.agentId = event.agentId;
        failed.timestamp = event.timestamp;
        failed.metadata = {{"event", event.event}, {"reason", e.what()}};
        try {
          line = recordLine(failed, seq_ + 1, prevHash_, signer, hash, sig);
          counts = true;
        } catch (const std::exception&) {
          continue;
        }
      }
      sinceSignature_ = sig.empty() ? sinceSignature_ + 1 : 0;
      ++seq_;
      if (counts) ++events_;
      prevHash_ = sha256Hex(line);
      if (!sig.empty())
        batchHead = WitnessHead{seq_, std::move(hash), std::move(sig), signer->publicKey, events_};
      line += '\n';
      if (file) std::fwrite(line.data(), 1, line.size(), file.get());
    }
    if (file) {
      std::fflush(file.get());
      if (syncInBatch && options_.syncToDisk) ::fdatasync(::fileno(file.get()));
    }
    {
      std::lock_guard lock(mutex_);
      written_ += batch.size();
      // Shown to others only once flushed: a head the file does not hold would be evidence
      // against it.
      if (batchHead) head_ = std::move(batchHead);
    }
    drained_.notify_all();
  }
}

}  // namespace detail

FileWitnessSink::FileWitnessSink(const std::string& path, FileWitnessOptions options)
    : writer_(std::make_unique<detail::FileWitnessWriter>(path, std::move(options))) {}

FileWitnessSink::~FileWitnessSink() = default;

void FileWitnessSink::record(const WitnessEvent& event) {
  writer_->record(event);
}

void FileWitnessSink::flush() {
  writer_->flush();
}

void FileWitnessSink::useSigner(const WitnessSigner& signer) {
  writer_->useSigner(signer);
}

std::optional<WitnessHead> FileWitnessSink::signedHead() const {
  return writer_->signedHead();
}

}  // namespace ifmesh
