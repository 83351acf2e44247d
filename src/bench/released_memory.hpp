#pragma once
// Hands the memory the allocator holds free back to the system, so that a scenario's RSS counts
// what it uses, not what the scenarios before it in the same process freed: jemalloc (when the
// ifmesh command links it) keeps freed pages for ~10 s, glibc's malloc keeps its arenas' tops.
namespace ifmesh::bench {

void releaseFreedMemory();

}  // namespace ifmesh::bench
