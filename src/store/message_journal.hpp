#pragma once
// An append-only JSON-lines file with one line per delivered message, written and flushed before
// the agent acknowledges the message (`ifmesh agent --record`, the Python agent's journal).
//
// With a state directory the agent hands a message to its application again only when the
// process died after the application took it and before the agent committed its delivery. The
// journal makes itself exactly once the way any application can: sequences are consecutive per
// (source, incarnation, priority) and a durable source keeps its incarnation, so a message at or
// below the last journaled sequence of its lane is one already journaled, and is skipped.
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>

#include "ifmesh/ifmessage.hpp"

namespace ifmesh::detail::store {

class MessageJournal {
 public:
  // Appends to `path`. skipJournaled: read what the file holds (a last line cut short by a kill
  // is cut off; each line's lane from "source", "incarnation" and "priority", its sequence from
  // the field `sequenceKey`) and skip messages journaled before. Throws Error(Io) when it cannot.
  MessageJournal(const std::string& path, bool skipJournaled, const std::string& sequenceKey);
  // Appends `line` (one JSON object, no newline) for `message` and flushes; false, writing
  // nothing, when the message was journaled before.
  bool write(const IFMessage& message, std::string_view line);

 private:
  using Lane = std::tuple<std::string, std::uint64_t, int>;  // source, incarnation, priority
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
  bool skipJournaled_;
  std::map<Lane, std::uint64_t> last_;
};

}  // namespace ifmesh::detail::store
