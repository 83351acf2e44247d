#pragma once
// A thin RAII layer over SQLite: a connection and prepared statements. Every failure throws
// Error(Io) naming the statement and SQLite's message. Not thread-safe: one thread uses a Db and
// its statements.
#include <cstdint>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace ifmesh::detail::store {

class Db {
 public:
  explicit Db(const std::string& path);  // creates the file when it does not exist
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(const char* sql);  // statements without results
  sqlite3* handle() const { return db_; }
  [[noreturn]] void fail(const char* what) const;

 private:
  sqlite3* db_ = nullptr;
};

class Statement {
 public:
  Statement(Db& db, const char* sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in SQLite.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  // Runs to completion (statements without a result row).
  void run();
  // Steps to the next row; false when there is none left (the statement is then reset).
  bool next();
  std::int64_t integer(int column) const;  // 0-based, as in SQLite
  std::string text(int column) const;

 private:
  Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
  const char* sql_;
};

}  // namespace ifmesh::detail::store
