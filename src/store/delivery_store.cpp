#include "store/delivery_store.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "ifmesh/error.hpp"
#include "store/sqlite_db.hpp"
#include "sync_directory.hpp"

#include <sqlite3.h>

namespace ifmesh::detail::store {

namespace {

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox(key INTEGER PRIMARY KEY, peer TEXT NOT NULL,
  hops INTEGER NOT NULL, droppable INTEGER NOT NULL, message TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS links(peer TEXT PRIMARY KEY, peer_incarnation INTEGER NOT NULL,
  acked0 INTEGER, acked1 INTEGER, acked2 INTEGER, acked3 INTEGER,
  delivered0 INTEGER, delivered1 INTEGER, delivered2 INTEGER, delivered3 INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stamps(destination TEXT NOT NULL, lane INTEGER NOT NULL,
  last INTEGER NOT NULL, PRIMARY KEY(destination, lane)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS replay(source TEXT PRIMARY KEY, incarnation INTEGER NOT NULL,
  newest_ms INTEGER NOT NULL, last0 INTEGER, last1 INTEGER, last2 INTEGER, last3 INTEGER)
  WITHOUT ROWID;
)";

std::int64_t i64(std::uint64_t v) {
  return static_cast<std::int64_t>(v);
}
std::uint64_t u64(std::int64_t v) {
  return v < 0 ? 0 : static_cast<std::uint64_t>(v);
}

}  // namespace

void makeStateDirectory(const std::string& directory) {
  std::error_code ec;
  if (!std::filesystem::exists(directory, ec)) {
    auto parent = std::filesystem::path(directory).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST)
      throw Error(Errc::Io,
                  "cannot create the state directory " + directory + ": " + std::strerror(errno));
  } else if (!std::filesystem::is_directory(directory, ec)) {
    throw Error(Errc::Io, "state directory " + directory + " is not a directory");
  }
}

DeliveryStore::DeliveryStore(const std::string& directory) {
  makeStateDirectory(directory);
  const auto path = (std::filesystem::path(directory) / "delivery.db").string();
  logPath_ = path + "-wal";
  db_ = std::make_unique<Db>(path);
  // One agent per state directory: a second process would fork the incarnation's numbering.
  db_->exec("PRAGMA locking_mode=EXCLUSIVE");
  db_->exec("PRAGMA journal_mode=WAL");
  // A commit is written to the log without waiting for the disk; WalSyncer does that.
  db_->exec("PRAGMA synchronous=NORMAL");
  db_->exec("PRAGMA foreign_keys=OFF");
  // Takes the exclusive lock now, so a second agent on the directory fails at start.
  db_->exec("BEGIN IMMEDIATE");
  db_->exec(kSchema);
  db_->exec("COMMIT");
  // The database and its log now exist: make their names durable, so that a power loss cannot
  // take the files that later syncs of their contents rely on.
  if (int error = syncDirectory(directory); error != 0)
    throw Error(Errc::Io,
                "cannot sync the state directory " + directory + ": " + std::strerror(error));
  insertOutbox_ = std::make_unique<Statement>(
      *db_, "INSERT INTO outbox(peer, hops, droppable, message) VALUES(?1, ?2, ?3, ?4)");
  deleteOutbox_ = std::make_unique<Statement>(*db_, "DELETE FROM outbox WHERE key = ?1");
  upsertLink_ = std::make_unique<Statement>(
      *db_, "INSERT OR REPLACE INTO links VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  upsertStamp_ =
      std::make_unique<Statement>(*db_, "INSERT OR REPLACE INTO stamps VALUES(?1, ?2, ?3)");
  upsertReplay_ = std::make_unique<Statement>(
      *db_, "INSERT OR REPLACE INTO replay VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  deleteReplay_ = std::make_unique<Statement>(*db_, "DELETE FROM replay WHERE source = ?1");
}

DeliveryStore::~DeliveryStore() {
  try {
    commit();
  } catch (const Error&) {
    // Nothing more can be done: what was not committed was never reported durable.
  }
}

std::uint64_t DeliveryStore::incarnation(std::uint64_t fresh) {
  Statement get(*db_, "SELECT value FROM meta WHERE key = 'incarnation'");
  if (get.next()) {
    auto v = u64(get.integer(0));
    while (get.next()) {
    }
    if (v != 0) return v;
  }
  Statement put(*db_, "INSERT OR REPLACE INTO meta VALUES('incarnation', ?1)");
  put.bind(1, i64(fresh)).run();
  return fresh;
}

std::map<std::string, LinkState> DeliveryStore::links() {
  std::map<std::string, LinkState> out;
  Statement q(*db_, "SELECT * FROM links");
  while (q.next()) {
    LinkState s;
    s.peerIncarnation = u64(q.integer(1));
    for (int l = 0; l < kMessagePriorities; ++l) {
      s.acked[l] = u64(q.integer(2 + l));
      s.delivered[l] = u64(q.integer(6 + l));
    }
    out[q.text(0)] = s;
  }
  return out;
}

std::map<std::pair<std::string, int>, std::uint64_t> DeliveryStore::stamps() {
  std::map<std::pair<std::string, int>, std::uint64_t> out;
  Statement q(*db_, "SELECT destination, lane, last FROM stamps");
  while (q.next()) out[{q.text(0), static_cast<int>(q.integer(1))}] = u64(q.integer(2));
  return out;
}

std::map<std::string, ReplayState> DeliveryStore::replayWindow() {
  std::map<std::string, ReplayState> out;
  Statement q(*db_, "SELECT * FROM replay");
  while (q.next()) {
    ReplayState s;
    s.incarnation = u64(q.integer(1));
    s.newestMs = q.integer(2);
    for (int l = 0; l < kMessagePriorities; ++l) s.last[l] = u64(q.integer(3 + l));
    out[q.text(0)] = s;
  }
  return out;
}

std::vector<OutboxEntry> DeliveryStore::outbox() {
  std::vector<OutboxEntry> out;
  Statement q(*db_, "SELECT key, peer, hops, droppable, message FROM outbox ORDER BY key");
  while (q.next())
    out.push_back({u64(q.integer(0)), q.text(1), static_cast<int>(q.integer(2)), q.integer(3) != 0,
                   q.text(4)});
  return out;
}

void DeliveryStore::begin() {
  if (inTransaction_) return;
  db_->exec("BEGIN");
  inTransaction_ = true;
}

std::uint64_t DeliveryStore::addToOutbox(const std::string& peer, int hops, bool droppable,
                                         const std::string& json) {
  begin();
  insertOutbox_->bind(1, peer).bind(2, hops).bind(3, droppable ? 1 : 0).bind(4, json).run();
  return u64(sqlite3_last_insert_rowid(db_->handle()));
}

void DeliveryStore::removeFromOutbox(std::uint64_t key) {
  begin();
  deleteOutbox_->bind(1, i64(key)).run();
}

void DeliveryStore::setLink(const std::string& peer, const LinkState& state) {
  links_[peer] = state;
}

void DeliveryStore::setStamp(const std::string& destination, int lane, std::uint64_t last) {
  stamps_[{destination, lane}] = last;
}

void DeliveryStore::setReplay(const std::string& source, const ReplayState& state) {
  replay_[source] = state;
}

void DeliveryStore::forgetReplay(const std::string& source) {
  replay_[source] = std::nullopt;
}

void DeliveryStore::commit() {
  if (!dirty()) return;
  begin();
  for (const auto& [peer, s] : links_) {
    upsertLink_->bind(1, peer).bind(2, i64(s.peerIncarnation));
    for (int l = 0; l < kMessagePriorities; ++l) {
      upsertLink_->bind(3 + l, i64(s.acked[l]));
      upsertLink_->bind(7 + l, i64(s.delivered[l]));
    }
    upsertLink_->run();
  }
  for (const auto& [key, last] : stamps_)
    upsertStamp_->bind(1, key.first).bind(2, key.second).bind(3, i64(last)).run();
  for (const auto& [source, s] : replay_) {
    if (!s) {
      deleteReplay_->bind(1, source).run();
      continue;
    }
    upsertReplay_->bind(1, source).bind(2, i64(s->incarnation)).bind(3, s->newestMs);
    for (int l = 0; l < kMessagePriorities; ++l) upsertReplay_->bind(4 + l, i64(s->last[l]));
    upsertReplay_->run();
  }
  db_->exec("COMMIT");
  inTransaction_ = false;
  links_.clear();
  stamps_.clear();
  replay_.clear();
  ++commits_;
}

}  // namespace ifmesh::detail::store
