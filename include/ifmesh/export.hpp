#pragma once
// IFMESH_API marks the public API. libifmesh.so is compiled with -fvisibility=hidden, so only
// declarations carrying it are exported (nm -D); everything else in the library stays internal
// and cannot be linked against. For a program including the headers the attribute changes
// nothing.
#if defined(__GNUC__)
#define IFMESH_API __attribute__((visibility("default")))
#else
#define IFMESH_API
#endif
