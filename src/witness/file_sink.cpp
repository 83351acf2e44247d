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
#include "ifmesh/witness.hpp"

namespace ifmesh {

namespace {

const std::string kGenesis(64, '0');

// The record's JSON line (without its newline). Strings that are not valid UTF-8 (text cut
// inside a character, bytes from a peer) are written with U+FFFD in place of the bad bytes, so
// the line is valid UTF-8 and verifies like any other.
std::string recordLine(const WitnessEvent& event, std::uint64_t seq, const std::string& prevHash) {
  using Json = nlohmann::json;
  Json record = witnessRecord(event, seq, prevHash);
  record["hash"] = sha256Hex(record.dump(-1, ' ', false, Json::error_handler_t::replace));
  return record.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// True when `line` is an intact record that follows the record whose hash is `prevHash`, with
// sequence number `seq`: its hash matches its content and it names that predecessor.
bool continuesChain(const std::string& line, const std::string& prevHash, std::uint64_t seq) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  auto hash = j.find("hash");
  if (hash == j.end() || !hash->is_string()) return false;
  const std::string claimed = *hash;
  j.erase("hash");
  auto prev = j.find("prev_hash");
  auto number = j.find("seq");
  return sha256Hex(j.dump()) == claimed && prev != j.end() && *prev == prevHash &&
         number != j.end() && number->is_number_unsigned() && number->get<std::uint64_t>() == seq;
}

}  // namespace

namespace detail {

// The state behind a FileWitnessSink: the queue, and the thread that hashes and appends.
class FileWitnessWriter {
 public:
  explicit FileWitnessWriter(const std::string& path);
  ~FileWitnessWriter();
  void record(const WitnessEvent& event);
  void flush();

 private:
  void run();

  std::string path_;
  std::mutex mutex_;
  std::condition_variable wake_, drained_;
  std::deque<WitnessEvent> queue_;
  std::uint64_t enqueued_ = 0, written_ = 0;
  bool stop_ = false;
  std::uint64_t seq_ = 0;
  std::string prevHash_;
  std::thread writer_;
};

FileWitnessWriter::FileWitnessWriter(const std::string& path) : path_(path), prevHash_(kGenesis) {
  // Continue the chain of an existing file from its last record. A last line without its
  // newline is a write that a crash cut short: it is cut off (and the cut is itself recorded),
  // unless it is a whole record, which only missed its newline. A corrupt record that did end
  // with a newline is not a torn write: the file is refused, never rewritten.
  std::ifstream in(path, std::ios::binary);
  std::string line, last, torn;
  std::uint64_t completeBytes = 0, lineNo = 0, lastLineNo = 0;
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
    if (continuesChain(torn, prevHash_, seq_ + 1)) {
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
      queue_.push_back(std::move(cut));
      ++enqueued_;
    }
  }
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

void FileWitnessWriter::record(const WitnessEvent& event) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(event);
    ++enqueued_;
  }
  wake_.notify_one();
}

void FileWitnessWriter::flush() {
  std::unique_lock lock(mutex_);
  std::uint64_t target = enqueued_;
  drained_.wait(lock, [&] { return written_ >= target; });
}

void FileWitnessWriter::run() {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path_.c_str(), "a"), &std::fclose);
  for (;;) {
    std::deque<WitnessEvent> batch;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty() && stop_) return;
      batch.swap(queue_);
    }
    for (const auto& event : batch) {
      std::string line;
      try {
        line = recordLine(event, seq_ + 1, prevHash_);
      } catch (const std::exception& e) {
        // Nothing may escape this thread (it would end the process). The event is replaced by
        // a record that says it could not be written, so the chain shows the gap.
        WitnessEvent failed;
        failed.event = "witness_record_failed";
        failed.agentId = event.agentId;
        failed.timestamp = event.timestamp;
        failed.metadata = {{"event", event.event}, {"reason", e.what()}};
        try {
          line = recordLine(failed, seq_ + 1, prevHash_);
        } catch (const std::exception&) {
          continue;
        }
      }
      ++seq_;
      prevHash_ = sha256Hex(line);
      line += '\n';
      if (file) std::fwrite(line.data(), 1, line.size(), file.get());
    }
    if (file) std::fflush(file.get());
    {
      std::lock_guard lock(mutex_);
      written_ += batch.size();
    }
    drained_.notify_all();
  }
}

}  // namespace detail

FileWitnessSink::FileWitnessSink(const std::string& path)
    : writer_(std::make_unique<detail::FileWitnessWriter>(path)) {}

FileWitnessSink::~FileWitnessSink() = default;

void FileWitnessSink::record(const WitnessEvent& event) {
  writer_->record(event);
}

void FileWitnessSink::flush() {
  writer_->flush();
}

}  // namespace ifmesh
