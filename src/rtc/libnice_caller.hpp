#pragma once
// Which calls come from libnice: the GLib interposers (libnice_glib_hooks.cpp,
// libnice_receive_batch.cpp) change behaviour for libnice only.

namespace ifmesh::rtc {

// True when `returnAddress` lies in libnice's code. After the first call this is a range check:
// the receive interposer asks for every datagram, where a dladdr() lookup per call cost more
// than the read it replaced.
bool calledFromLibnice(const void* returnAddress);

}  // namespace ifmesh::rtc
