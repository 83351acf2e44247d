#pragma once
// Which calls come from libnice: the GLib interposers (libnice_glib_hooks.cpp,
// libnice_receive_batch.cpp) change behaviour for libnice only.

// These files are linked into the ifmesh executable and the test programs only, never into the
// library: a library must not replace GLib functions for its host program (a GLib or GTK program
// linking ifmesh gets GLib's own, which work the same at a higher cost per connection). An
// executable's exported definition precedes the one in libglib, which is how they interpose.
#define IFMESH_GLIB_INTERPOSER extern "C" __attribute__((visibility("default")))

namespace ifmesh::rtc {

// True when `returnAddress` lies in libnice's code. After the first call this is a range check:
// the receive interposer asks for every datagram, where a dladdr() lookup per call cost more
// than the read it replaced.
bool calledFromLibnice(const void* returnAddress);

}  // namespace ifmesh::rtc
