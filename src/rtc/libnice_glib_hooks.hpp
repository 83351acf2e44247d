#pragma once
// See libnice_glib_hooks.cpp: how libnice's GLib calls are adjusted for a mesh of thousands of
// connections (one shared component context; socket sources that GLib need not block).

namespace ifmesh::rtc {

// Does nothing; calling it keeps libnice_glib_hooks.o (and so the GLib interposers it defines)
// in every static link of the library.
void anchorLibniceGlibHooks();

}  // namespace ifmesh::rtc
