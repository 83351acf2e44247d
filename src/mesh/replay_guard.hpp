#pragma once
// End-to-end replay protection at a message's destination, per source. The rule (also in
// docs/identity.md):
//  * the timestamp must parse (ISO 8601 UTC) and lie within +/- window of our clock, else
//    "stale_timestamp" ("bad_timestamp" when it does not parse);
//  * sequence numbers start at 1: 0 is "bad_sequence";
//  * within one source incarnation, a (priority lane, sequence) at or below the highest one
//    accepted in that lane is a "replay";
//  * a message from another incarnation than the current one is a restarted source only when its
//    timestamp is later than every message accepted from the current incarnation (a new process
//    starts after the old one's last message); it then becomes current with fresh lanes.
//    Otherwise it is a "replay" of an older process's message.
// Resends after a reconnect never get here: the link drops them by link sequence, silently.
// Call only for messages whose signature was verified, so forgeries cannot move the state.
// A source's state is forgotten once its newest accepted message is older than the window: every
// message it accepted from that source is then stale by the first rule, so forgetting reopens no
// replay, and the state held stays proportional to the sources active within one window.
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "ifmesh/ifmessage.hpp"

namespace ifmesh::detail {

// Milliseconds since the Unix epoch of "YYYY-MM-DDTHH:MM:SS[.fff]Z", or nothing.
std::optional<std::int64_t> parseIsoTimestampMs(const std::string& text);

class ReplayGuard {
 public:
  struct Source {
    std::uint64_t incarnation = 0;
    std::int64_t newestMs = 0;
    std::array<std::uint64_t, kMessagePriorities> last{};
  };
  // Hears every change of a source's state (nullptr: forgotten), for a state store.
  using Observer = std::function<void(const std::string& source, const Source* state)>;

  explicit ReplayGuard(std::chrono::milliseconds window) : window_(window) {}
  // nullptr when accepted (and recorded), else the reason it is rejected.
  const char* admit(const IFMessage& message, std::chrono::system_clock::time_point now);
  std::size_t sources() const { return sources_.size(); }
  // A state store's view, from before this process started.
  void restore(const std::string& source, const Source& state) { sources_[source] = state; }
  void observe(Observer observer) { observer_ = std::move(observer); }

 private:
  std::chrono::milliseconds window_;
  Observer observer_;
  void forgetStale(std::int64_t nowMs);

  std::map<std::string, Source> sources_;
  std::int64_t lastSweepMs_ = 0;
};

}  // namespace ifmesh::detail
