#pragma once
// An IFMessage without its payload: for holders that keep the payload as JSON text (a send
// queue, the Python binding's events), where a copy of the payload tree would cost more than the
// text.
#include "ifmesh/ifmessage.hpp"

namespace ifmesh::detail {

// Every field but the payload, which is null in the copy.
inline IFMessage withoutPayload(const IFMessage& m) {
  IFMessage h;
  h.id = m.id;
  h.timestamp = m.timestamp;
  h.level = m.level;
  h.source = m.source;
  h.destination = m.destination;
  h.version = m.version;
  h.payload = nullptr;
  h.sequence = m.sequence;
  h.traceId = m.traceId;
  h.priority = m.priority;
  h.incarnation = m.incarnation;
  h.signature = m.signature;
  h.droppable = m.droppable;
  return h;
}

}  // namespace ifmesh::detail
