#pragma once
// Where the library's own diagnostics go. ifmesh reports what happens to a caller through return
// values, exceptions, callbacks and the witness log; besides those it has diagnostics nobody
// asked for: input it skipped (a malformed candidate line, a malformed message from a peer or
// the server) and what libnice logs through GLib (its log domains "libnice", "libnice-stun",
// "libnice-socket", "libnice-pseudotcp" and their "-verbose" variants). All of them go to one
// handler.
//
// The default handler writes each message of level Warning and above to stderr as one line:
// "ifmesh <level> <component>: <message>" (control characters replaced by '?').
//
// Threads: the handler is called on whichever thread logs, mostly the library's I/O threads, and
// may be called from several at once; it must be thread-safe, return quickly and not throw (an
// exception it throws is dropped). It may call setLogHandler; it must not wait for an I/O thread
// (an Agent or PeerConnection call that blocks), which could be the one calling it.
// setLogHandler may be called from any thread at any time: a message being handled while the
// handler is replaced goes to the old or the new one, never to a destroyed one. A call of the
// old handler already under way on another thread may still finish after setLogHandler
// returns, so whatever a handler uses must outlive it (capture it by value or shared_ptr).
//
// GLib: the library installs a GLib log handler for libnice's domains only (with
// g_log_set_handler, when the first Agent or PeerConnection starts the I/O threads); the
// process's default GLib handler and every other domain stay the host program's.
#include <functional>
#include <string_view>

#include "ifmesh/export.hpp"

namespace ifmesh {

enum class LogLevel { Debug, Info, Warning, Error };
IFMESH_API const char* toString(LogLevel level) noexcept;  // "debug", "info", "warning", "error"

using LogHandler =
    std::function<void(LogLevel level, std::string_view component, std::string_view message)>;

// Messages below `minimum` are dropped before they are formatted. A null handler restores the
// default one (stderr), with `minimum` as its threshold.
IFMESH_API void setLogHandler(LogLevel minimum, LogHandler handler);

}  // namespace ifmesh
