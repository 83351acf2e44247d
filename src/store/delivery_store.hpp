#pragma once
// An agent's delivery state on disk (AgentConfig::state), so that a process that dies and starts
// again with the same directory resumes without losing or repeating a message:
//  * its incarnation, kept across restarts: its peers see the same process continue;
//  * the outbox: every accepted message not yet acknowledged by the next hop, per link and lane,
//    in the order it was accepted;
//  * per link: the peer incarnation the link counts for, and per lane the last link sequence
//    the peer acknowledged and the last one delivered from it;
//  * the last end-to-end sequence stamped per (destination, lane);
//  * the replay window: per source, what the destination accepted last.
// SQLite in WAL mode. Writes go into one open transaction; commit() writes them to the log
// together, where they survive the process being killed; WalSyncer makes them survive power loss
// (group commit: one fdatasync for every commit made while the previous one ran). Values the
// agent only ever overwrites (link, stamp and replay state) are kept in memory and written once
// per commit.
// Not thread-safe: the agent's loop thread uses it.
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ifmesh/ifmessage.hpp"

namespace ifmesh::detail::store {

class Db;
class Statement;

struct LinkState {
  std::uint64_t peerIncarnation = 0;
  std::array<std::uint64_t, kMessagePriorities> acked{};      // by the peer, our numbering
  std::array<std::uint64_t, kMessagePriorities> delivered{};  // from the peer, its numbering
  bool operator==(const LinkState&) const = default;
};

struct ReplayState {
  std::uint64_t incarnation = 0;
  std::int64_t newestMs = 0;
  std::array<std::uint64_t, kMessagePriorities> last{};
  bool operator==(const ReplayState&) const = default;
};

struct OutboxEntry {
  std::uint64_t key = 0;
  std::string peer;
  int hops = 0;
  bool droppable = false;
  std::string json;  // the serialized IFMessage
};

// Creates `directory` (mode 0700; its parents as needed) unless it exists. Throws Error(Io),
// also when it is something other than a directory.
void makeStateDirectory(const std::string& directory);

class DeliveryStore {
 public:
  // Opens (creating when needed) the store in `directory` (created with mode 0700 when
  // missing). Throws Error(Io).
  explicit DeliveryStore(const std::string& directory);
  const std::string& logPath() const { return logPath_; }  // the write-ahead log
  ~DeliveryStore();
  DeliveryStore(const DeliveryStore&) = delete;
  DeliveryStore& operator=(const DeliveryStore&) = delete;

  // What the store held when opened. The incarnation is created (random, from `fresh`) on
  // first use and kept from then on.
  std::uint64_t incarnation(std::uint64_t fresh);
  std::map<std::string, LinkState> links();
  std::map<std::pair<std::string, int>, std::uint64_t> stamps();
  std::map<std::string, ReplayState> replayWindow();
  std::vector<OutboxEntry> outbox();  // in acceptance order

  // Writes, durable at the next commit().
  std::uint64_t addToOutbox(const std::string& peer, int hops, bool droppable,
                            const std::string& json);
  void removeFromOutbox(std::uint64_t key);
  void setLink(const std::string& peer, const LinkState& state);
  void setStamp(const std::string& destination, int lane, std::uint64_t last);
  void setReplay(const std::string& source, const ReplayState& state);
  void forgetReplay(const std::string& source);

  bool dirty() const {
    return inTransaction_ || !links_.empty() || !stamps_.empty() || !replay_.empty();
  }
  // Makes every write so far durable. Throws Error(Io); the writes are then not durable.
  void commit();
  std::uint64_t commits() const { return commits_; }

 private:
  void begin();

  std::string logPath_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<Statement> insertOutbox_, deleteOutbox_, upsertLink_, upsertStamp_, upsertReplay_,
      deleteReplay_;
  bool inTransaction_ = false;
  std::uint64_t commits_ = 0;
  // Latest values not yet written (nullopt: delete).
  std::map<std::string, LinkState> links_;
  std::map<std::pair<std::string, int>, std::uint64_t> stamps_;
  std::map<std::string, std::optional<ReplayState>> replay_;
};

}  // namespace ifmesh::detail::store
