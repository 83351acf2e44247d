#include "rtc/log.hpp"

#include <glib.h>

#include <atomic>
#include <cstdio>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>

namespace ifmesh {

namespace {

struct Sink {
  LogHandler handler;  // empty: the default handler
};

// The current handler and its threshold. Never destroyed: a message logged while the process
// exits (an I/O thread, a static destructor) still finds it.
struct LogState {
  std::mutex mutex;
  std::shared_ptr<const Sink> sink = std::make_shared<const Sink>();
  std::atomic<int> minimum{static_cast<int>(LogLevel::Warning)};
};

LogState& state() {
  static LogState* s = new LogState;
  return *s;
}

// One line per message, written with one call so lines from several threads do not mix.
void writeToStderr(LogLevel level, std::string_view component, std::string_view message) {
  std::string line = "ifmesh ";
  line += toString(level);
  line += ' ';
  line += component;
  line += ": ";
  line += message;
  for (char& c : line)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

const char* toString(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info";
    case LogLevel::Warning:
      return "warning";
    case LogLevel::Error:
      return "error";
  }
  return "error";
}

void setLogHandler(LogLevel minimum, LogHandler handler) {
  auto sink = std::make_shared<const Sink>(Sink{std::move(handler)});
  auto& s = state();
  std::lock_guard lock(s.mutex);
  s.sink = std::move(sink);
  s.minimum = static_cast<int>(minimum);
}

namespace detail {

bool logEnabled(LogLevel level) noexcept {
  return static_cast<int>(level) >= state().minimum.load(std::memory_order_relaxed);
}

void log(LogLevel level, std::string_view component, std::string_view message) noexcept {
  if (!logEnabled(level)) return;
  auto& s = state();
  std::shared_ptr<const Sink> sink;
  {
    std::lock_guard lock(s.mutex);
    sink = s.sink;
  }
  // Called outside the lock: the handler may log or replace itself.
  try {
    if (sink->handler)
      sink->handler(level, component, message);
    else
      writeToStderr(level, component, message);
  } catch (...) {
    // A handler's exception must not unwind into an I/O thread or through GLib's C frames.
  }
}

namespace {

constexpr const char* kLibniceDomains[] = {"libnice",           "libnice-verbose",
                                           "libnice-stun",      "libnice-socket",
                                           "libnice-pseudotcp", "libnice-pseudotcp-verbose"};

LogLevel fromGlib(GLogLevelFlags flags) {
  if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) return LogLevel::Error;
  if (flags & G_LOG_LEVEL_WARNING) return LogLevel::Warning;
  if (flags & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO)) return LogLevel::Info;
  return LogLevel::Debug;
}

void onGlibLog(const gchar* domain, GLogLevelFlags flags, const gchar* message, gpointer) {
  log(fromGlib(flags), domain ? domain : "glib", message ? message : "");
}

}  // namespace

LibniceLogRoute::LibniceLogRoute() {
  static_assert(std::size(kLibniceDomains) == std::extent_v<decltype(handlerIds_)>);
  auto levels =
      static_cast<GLogLevelFlags>(G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION);
  for (std::size_t i = 0; i < std::size(kLibniceDomains); ++i)
    handlerIds_[i] = g_log_set_handler(kLibniceDomains[i], levels, &onGlibLog, nullptr);
}

LibniceLogRoute::~LibniceLogRoute() {
  for (std::size_t i = 0; i < std::size(kLibniceDomains); ++i)
    if (handlerIds_[i] != 0) g_log_remove_handler(kLibniceDomains[i], handlerIds_[i]);
}

}  // namespace detail

}  // namespace ifmesh
