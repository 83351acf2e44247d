#pragma once
// A Python agent's journal_file: one JSON line per delivered message (the IFMessage as the link
// carries it), appended and flushed on the agent's I/O thread before the agent acknowledges the
// message. The agent hands messages to Python after their acknowledgement may have left, so the
// journal is what a killed process had acknowledged.
//
// With a state store the agent delivers a message again only when the process died after the
// journal took it and before the agent committed its delivery. Sequences are consecutive per
// (source, incarnation, priority) and a durable source keeps its incarnation, so such a message
// is one at or below the last journaled sequence of its lane: skipped, the journal then holds
// every message once.
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "ifmesh/ifmessage.hpp"

namespace ifmesh::python {

class Journal {
 public:
  // Appends to `path`. skipJournaled: read what the file holds (a last line cut short by a kill
  // is cut off) and skip messages journaled before. Throws Error(Io) when it cannot.
  Journal(const std::string& path, bool skipJournaled);
  // False when the message was journaled before (and is skipped).
  bool write(const IFMessage& message);

 private:
  using Lane = std::tuple<std::string, std::uint64_t, int>;  // source, incarnation, priority
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
  bool skipJournaled_;
  std::map<Lane, std::uint64_t> last_;
};

}  // namespace ifmesh::python
