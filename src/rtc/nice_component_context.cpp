// libnice gives every ICE component a private GMainContext (`own_ctx`) that it only iterates for
// the blocking nice_agent_recv*() calls, which we never make: our components deliver through
// nice_agent_attach_recv() on an I/O loop. Each such context costs an eventfd and an O(contexts)
// append/remove on GLib's global context list under a global lock. At 4,950 connections (9,900
// components) that was a quarter of all CPU while a mesh formed, and the eventfds alone took the
// process past a 20,000 file-descriptor limit.
//
// This definition interposes GLib's g_main_context_new() for the process (an executable's symbol
// precedes a shared library's) and hands calls coming from libnice a reference to one shared,
// never-iterated context. Every other caller gets a fresh context exactly as GLib would make it.
#include <dlfcn.h>
#include <glib.h>

#include <cstring>

#include "rtc/nice_component_context.hpp"

namespace {

bool calledFromLibnice(const void* returnAddress) {
  Dl_info info{};
  if (dladdr(returnAddress, &info) == 0 || info.dli_fname == nullptr) return false;
  return std::strstr(info.dli_fname, "libnice") != nullptr;
}

GMainContext* sharedComponentContext() {
  // Created once and kept for the life of the process: it never runs, so it needs no thread.
  static GMainContext* const shared = g_main_context_new_with_flags(G_MAIN_CONTEXT_FLAGS_NONE);
  return shared;
}

}  // namespace

extern "C" GMainContext* g_main_context_new(void) {
  if (calledFromLibnice(__builtin_return_address(0)))
    return g_main_context_ref(sharedComponentContext());
  return g_main_context_new_with_flags(G_MAIN_CONTEXT_FLAGS_NONE);
}

namespace ifmesh::rtc {

void anchorNiceComponentContext() {}

}  // namespace ifmesh::rtc
