#include "mesh/replay_guard.hpp"

#include <cstdio>
#include <ctime>

namespace ifmesh::detail {

std::optional<std::int64_t> parseIsoTimestampMs(const std::string& text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6 ||
      consumed != 19)
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  std::size_t i = 19;
  std::int64_t ms = 0;
  if (i < text.size() && text[i] == '.') {
    int digits = 0;
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits)
      if (digits < 3) ms = ms * 10 + (text[i] - '0');
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) ms *= 10;
  }
  if (i + 1 != text.size() || text[i] != 'Z') return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
}

const char* ReplayGuard::admit(const IFMessage& m, std::chrono::system_clock::time_point now) {
  auto ts = parseIsoTimestampMs(m.timestamp);
  if (!ts) return "bad_timestamp";
  auto nowMs =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  if (*ts < nowMs - window_.count() || *ts > nowMs + window_.count()) return "stale_timestamp";
  if (m.sequence == 0) return "bad_sequence";
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
  return nullptr;
}

}  // namespace ifmesh::detail
