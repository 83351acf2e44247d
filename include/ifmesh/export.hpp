#pragma once
// IFMESH_API marks the public API. libifmesh.so is compiled with -fvisibility=hidden, so only
// declarations carrying it are exported (nm -D); everything else in the library stays internal
// and cannot be linked against. For a program including the headers the attribute changes
// nothing. IFMESH_INTERNAL keeps an implementation type nested in a public class (its Impl) out
// of the export, which it would otherwise inherit from the enclosing class.
#if defined(__GNUC__)
#define IFMESH_API __attribute__((visibility("default")))
#define IFMESH_INTERNAL __attribute__((visibility("hidden")))
#else
#define IFMESH_API
#define IFMESH_INTERNAL
#endif
