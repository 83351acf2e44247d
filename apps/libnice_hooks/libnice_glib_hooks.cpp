// Two GLib functions are interposed for calls coming from libnice (an executable's symbol
// precedes a shared library's); every other caller gets GLib's own behaviour.
//
// g_main_context_new(): libnice gives every ICE component a private GMainContext (`own_ctx`)
// that it only iterates for the blocking nice_agent_recv*() calls, which we never make: our
// components deliver through nice_agent_attach_recv() on an I/O loop. Each such context costs an
// eventfd and an O(contexts) append/remove on GLib's global context list under a global lock. At
// 4,950 connections (9,900 components) that was a quarter of all CPU while a mesh formed, and the
// eventfds alone took the process past a 20,000 file-descriptor limit. libnice's calls get a
// reference to one shared, never-iterated context instead.
//
// g_source_attach(): GLib blocks a source while dispatching it unless the source may recurse,
// and blocking a socket source removes its descriptor from the context's poll list and adds it
// back afterwards; each of the two changes signals the context's wakeup eventfd. For every packet
// that meant two write() calls and, because the eventfd is in the driver's epoll set
// (context_driver.hpp), a second wake-up of the same cell: half of all events in a 100-agent
// mesh. Blocking only guards against a nested iteration of the same context, which never happens
// here (ContextDriver is not re-entrant and libnice never iterates the contexts we give it), so
// libnice's descriptor sources are marked as allowed to recurse. Its timeouts are not: a timeout
// re-arms itself inside its own dispatch, and GLib signals the wakeup for that unless the source
// is blocked (marking them too cost ~1.5 eventfd writes per round trip in a 100-agent mesh).
#include <dlfcn.h>
#include <glib.h>

#include "libnice_caller.hpp"

namespace {

using ifmesh::rtc::calledFromLibnice;

GMainContext* sharedComponentContext() {
  // Created once and kept for the life of the process: it never runs, so it needs no thread.
  static GMainContext* const shared = g_main_context_new_with_flags(G_MAIN_CONTEXT_FLAGS_NONE);
  return shared;
}

using SourceAttach = guint (*)(GSource*, GMainContext*);

SourceAttach glibSourceAttach() {
  static const auto next = reinterpret_cast<SourceAttach>(dlsym(RTLD_NEXT, "g_source_attach"));
  return next;
}

}  // namespace

IFMESH_GLIB_INTERPOSER GMainContext* g_main_context_new(void) {
  if (calledFromLibnice(__builtin_return_address(0)))
    return g_main_context_ref(sharedComponentContext());
  return g_main_context_new_with_flags(G_MAIN_CONTEXT_FLAGS_NONE);
}

IFMESH_GLIB_INTERPOSER guint g_source_attach(GSource* source, GMainContext* context) {
  if (source != nullptr && source->source_funcs != &g_timeout_funcs &&
      calledFromLibnice(__builtin_return_address(0)))
    g_source_set_can_recurse(source, TRUE);
  return glibSourceAttach()(source, context);
}
