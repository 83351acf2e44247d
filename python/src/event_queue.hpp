#pragma once
// What the agent's threads hand to Python: events queued under a mutex, and a wake-up that runs
// once per batch (the first event after Python took the previous batch), so the GIL is taken
// once per batch and never while the mutex is held.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ifmesh/ifmessage.hpp"
#include "ifmesh/witness.hpp"

namespace ifmesh::python {

struct Event {
  enum class Kind {
    Message,         // message
    Accepted,        // token, sequence: accepted, and durable with a state store (no ack wait)
    Acknowledged,    // token, sequence: the link to the destination acknowledged it
    Failed,          // token, code (an Errc, or -1: undeliverable), text
    PeerState,       // peer, text (the state)
    QualityChanged,  // text (from), peer (to)
    Witness,         // witness
    SignalingError,  // peer (the code), text
  };
  explicit Event(Kind k) : kind(k) {}
  Kind kind;
  std::uint64_t token = 0;
  std::uint64_t sequence = 0;
  int code = 0;
  std::string peer;
  std::string text;
  // Set for a Message and a Witness event only: both hold a JSON object, whose default
  // construction allocates, and most events (an acknowledgement per send) need neither.
  std::optional<IFMessage> message;
  std::optional<WitnessEvent> witness;
};

class EventQueue {
 public:
  // Queues the event; true when the caller must wake Python (nothing was pending before).
  bool push(Event event) {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
    if (wakePending_) return false;
    wakePending_ = true;
    return true;
  }
  // Everything queued; the next push wakes Python again.
  std::vector<Event> take() {
    std::vector<Event> out;
    std::lock_guard lock(mutex_);
    out.swap(events_);
    wakePending_ = false;
    return out;
  }

 private:
  std::mutex mutex_;
  std::vector<Event> events_;
  bool wakePending_ = false;
};

}  // namespace ifmesh::python
