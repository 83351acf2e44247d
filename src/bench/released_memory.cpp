#include "bench/released_memory.hpp"

#include <malloc.h>

#include <cstddef>

// jemalloc's control interface, present only when the program links jemalloc.
extern "C" int mallctl(const char* name, void* oldp, std::size_t* oldlenp, void* newp,
                       std::size_t newlen) __attribute__((weak));

namespace ifmesh::bench {

void releaseFreedMemory() {
  if (mallctl) {
    // "arena.<MALLCTL_ARENAS_ALL>.purge": every arena's unused dirty and muzzy pages.
    mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
    return;
  }
  malloc_trim(0);
}

}  // namespace ifmesh::bench
