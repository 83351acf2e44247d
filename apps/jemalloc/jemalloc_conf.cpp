// jemalloc's start-up options for the ifmesh command (compiled in only when it links jemalloc).
//
// lg_extent_max_active_fit: a thread streaming 16 KiB messages into a DataChannel allocates a
// burst of 16 KiB buffers that the I/O thread frees in order; jemalloc coalesces them into free
// extents of several MiB, and by default (6: at most 64x the request) will not split one that
// large for a 16 KiB buffer, so it mapped fresh pages for every message instead: 4 page faults per
// message, ~60,000 in 3 s of the p2p bulk benchmark. 10 (1,024x) lets it reuse them.
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's interface.
const char* malloc_conf = "lg_extent_max_active_fit:10";
}
