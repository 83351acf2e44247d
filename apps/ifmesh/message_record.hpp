#pragma once
// `ifmesh agent --record FILE`: one JSON line per received message
// ({source, seq, id, priority, incarnation}), appended and flushed before the callback returns,
// so before the agent acknowledges the message.
//
// With a state directory the agent hands a message to its callback again only when the process
// died after the callback ran and before the agent committed its delivery. The record makes
// itself exactly once the way any application can: sequences are consecutive per (source,
// incarnation, priority) and a durable source keeps its incarnation, so a message at or below
// the last recorded sequence of its lane is one already recorded, and is skipped.
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "ifmesh/ifmessage.hpp"

namespace ifmesh::cli {

class MessageRecord {
 public:
  // Appends to `path`. skipRecorded: read what the file holds (a last line cut short by a kill
  // is cut off) and skip messages recorded before. Throws std::runtime_error when it cannot.
  MessageRecord(const std::string& path, bool skipRecorded);
  // False when the message was recorded before (and is skipped).
  bool write(const IFMessage& message);

 private:
  using Lane = std::tuple<std::string, std::uint64_t, int>;  // source, incarnation, priority
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
  bool skipRecorded_;
  std::map<Lane, std::uint64_t> last_;
};

}  // namespace ifmesh::cli
