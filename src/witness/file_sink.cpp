#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "ifmesh/witness.hpp"

namespace ifmesh {

namespace {
const std::string kGenesis(64, '0');
}

FileWitnessSink::FileWitnessSink(const std::string& path) : path_(path), prevHash_(kGenesis) {
  // Continue the chain of an existing file from its last record.
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  if (!last.empty()) {
    auto j = nlohmann::json::parse(last, nullptr, false);
    if (j.is_discarded() || !j.contains("seq") || !j["seq"].is_number_unsigned())
      throw std::runtime_error("witness file " + path + " ends with a corrupt record");
    seq_ = j["seq"].get<std::uint64_t>();
    prevHash_ = sha256Hex(last);
  }
  std::unique_ptr<FILE, int (*)(FILE*)> probe(std::fopen(path.c_str(), "a"), &std::fclose);
  if (!probe) throw std::runtime_error("cannot open witness file " + path);
  writer_ = std::thread([this] { run(); });
}

FileWitnessSink::~FileWitnessSink() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  writer_.join();
}

void FileWitnessSink::record(const WitnessEvent& event) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(event);
    ++enqueued_;
  }
  wake_.notify_one();
}

void FileWitnessSink::flush() {
  std::unique_lock lock(mutex_);
  std::uint64_t target = enqueued_;
  drained_.wait(lock, [&] { return written_ >= target; });
}

void FileWitnessSink::run() {
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
      nlohmann::json record = witnessRecord(event, ++seq_, prevHash_);
      record["hash"] = sha256Hex(record.dump());
      std::string line = record.dump();
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

}  // namespace ifmesh
