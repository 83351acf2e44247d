#pragma once
// The library's own diagnostics (include/ifmesh/log.hpp): what src/ logs, and the GLib log
// handler that brings libnice's messages to the same place.
#include <string_view>

#include "ifmesh/log.hpp"

namespace ifmesh::detail {

// Whether a message of this level goes anywhere: a caller with a costly message asks first.
bool logEnabled(LogLevel level) noexcept;
// Hands the message to the current handler. Any thread; never throws.
void log(LogLevel level, std::string_view component, std::string_view message) noexcept;

// libnice's GLib log domains routed to log() while this object lives (the rtc::Runtime holds
// one). Only those domains: the process's default GLib handler stays the host program's.
class LibniceLogRoute {
 public:
  LibniceLogRoute();
  ~LibniceLogRoute();
  LibniceLogRoute(const LibniceLogRoute&) = delete;
  LibniceLogRoute& operator=(const LibniceLogRoute&) = delete;

 private:
  unsigned handlerIds_[6] = {};
};

}  // namespace ifmesh::detail
