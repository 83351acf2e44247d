#pragma once
// Which calls come from libnice: the GLib interposers (libnice_glib_hooks.cpp,
// libnice_receive_batch.cpp) change behaviour for libnice only.

// The interposers' definitions stay visible to the dynamic linker although the library is compiled
// with -fvisibility=hidden: interposing works only through a program's exported symbols (a static
// link of the library). libifmesh.so does not export them (cmake/libifmesh.map): a shared library
// must not replace GLib functions for the whole process, so there libnice gets GLib's own.
#define IFMESH_GLIB_INTERPOSER extern "C" __attribute__((visibility("default")))

namespace ifmesh::rtc {

// True when `returnAddress` lies in libnice's code. After the first call this is a range check:
// the receive interposer asks for every datagram, where a dladdr() lookup per call cost more
// than the read it replaced.
bool calledFromLibnice(const void* returnAddress);

}  // namespace ifmesh::rtc
