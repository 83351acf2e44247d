#pragma once
// Random bytes for message ids, drawn from OpenSSL's DRBG a page at a time per thread. One
// RAND_bytes() call per id cost ~1.9 us here (a getpid() syscall for OpenSSL's fork check plus
// the DRBG's per-call set-up); drawn in 4 KiB batches it is ~10 ns per id.
//
// Fork-safe like OpenSSL itself: the batch lives in a page marked MADV_WIPEONFORK, so a child
// process finds it empty and refills it from its own (reseeded) DRBG instead of handing out the
// bytes its parent hands out next. Where the kernel refuses the flag, every call goes to
// RAND_bytes() directly.
#include <cstddef>

namespace ifmesh::detail {

// Any thread. Throws std::runtime_error if OpenSSL's generator fails.
void randomBytes(unsigned char* out, std::size_t length);

}  // namespace ifmesh::detail
