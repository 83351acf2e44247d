#pragma once
// See nice_component_context.cpp: one shared GMainContext for libnice's per-component contexts.

namespace ifmesh::rtc {

// Does nothing; calling it keeps nice_component_context.o (and so the g_main_context_new
// interposer it defines) in every static link of the library.
void anchorNiceComponentContext();

}  // namespace ifmesh::rtc
