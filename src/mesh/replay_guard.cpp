#include "mesh/replay_guard.hpp"

#include <chrono>

namespace ifmesh::detail {

namespace {

// The value of `count` ASCII digits at `at`, or -1.
int digitsAt(const std::string& text, std::size_t at, std::size_t count) {
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

// By hand rather than sscanf + timegm: this runs for every received message, and timegm takes
// glibc's time-zone lock several times per call (with sscanf ~3 % of a 5-agent mesh's CPU).
std::optional<std::int64_t> parseIsoTimestampMs(const std::string& text) {
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':')
    return std::nullopt;
  const int year = digitsAt(text, 0, 4), month = digitsAt(text, 5, 2), day = digitsAt(text, 8, 2);
  const int hour = digitsAt(text, 11, 2), minute = digitsAt(text, 14, 2);
  const int second = digitsAt(text, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 60)
    return std::nullopt;
  std::size_t i = 19;
  std::int64_t ms = 0;
  if (text[i] == '.') {
    int digits = 0;
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits)
      if (digits < 3) ms = ms * 10 + (text[i] - '0');
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) ms *= 10;
  }
  if (i + 1 != text.size() || text[i] != 'Z') return std::nullopt;
  // Like timegm, a day past the month's end counts on into the next month.
  const std::chrono::sys_days date{std::chrono::year{year} / static_cast<unsigned>(month) /
                                   static_cast<unsigned>(day)};
  const std::int64_t secondsOfDay = (hour * 60 + minute) * 60 + second;
  return std::chrono::duration_cast<std::chrono::milliseconds>(date.time_since_epoch()).count() +
         secondsOfDay * 1000 + ms;
}

const char* ReplayGuard::admit(const IFMessage& m, std::chrono::system_clock::time_point now) {
  auto ts = parseIsoTimestampMs(m.timestamp);
  if (!ts) return "bad_timestamp";
  auto nowMs =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  if (*ts < nowMs - window_.count() || *ts > nowMs + window_.count()) return "stale_timestamp";
  if (m.sequence == 0) return "bad_sequence";
  forgetStale(nowMs);
  auto lane = static_cast<std::size_t>(m.priority);
  auto [it, first] = sources_.try_emplace(m.source);
  Source& s = it->second;
  if (first) {
    s.incarnation = m.incarnation;
  } else if (m.incarnation != s.incarnation) {
    if (*ts <= s.newestMs) return "replay";  // an older process's message
    s = Source{m.incarnation, 0, {}};        // the source restarted
  }
  if (m.sequence <= s.last[lane]) return "replay";
  s.last[lane] = m.sequence;
  s.newestMs = std::max(s.newestMs, *ts);
  if (observer_) observer_(m.source, &s);
  return nullptr;
}

void ReplayGuard::forgetStale(std::int64_t nowMs) {
  // A sweep per second at most: the cost stays linear in the sources, not in the messages.
  if (nowMs - lastSweepMs_ < 1000) return;
  lastSweepMs_ = nowMs;
  std::erase_if(sources_, [&](const auto& entry) {
    bool stale = entry.second.newestMs < nowMs - window_.count();
    if (stale && observer_) observer_(entry.first, nullptr);
    return stale;
  });
}

}  // namespace ifmesh::detail
