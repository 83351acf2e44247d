#pragma once
// Random bytes for message and trace ids (mesh, witness), drawn from OpenSSL's DRBG a page at a
// time per thread. One RAND_bytes() call per id cost ~1.9 us here (a getpid() syscall for
// OpenSSL's fork check plus the DRBG's per-call set-up); drawn in 4 KiB batches it is ~10 ns.
//
// Fork-safe like OpenSSL itself: the batch lives in a page marked MADV_WIPEONFORK, so a child
// process finds it empty and refills it from its own (reseeded) DRBG instead of handing out the
// bytes its parent hands out next. Where the kernel refuses the flag, every call goes to
// RAND_bytes() directly. Header-only, like the other helpers shared by layers (hex.hpp).
#include <openssl/rand.h>
#include <sys/mman.h>

#include <cstddef>
#include <cstring>
#include <stdexcept>

namespace ifmesh::detail {

namespace random_batch {

constexpr std::size_t kPageBytes = 4096;

// The page's layout. A wiped page reads as remaining == 0: empty, refilled on the next draw.
struct Page {
  std::size_t remaining;
  unsigned char bytes[kPageBytes - sizeof(std::size_t)];
};
static_assert(sizeof(Page) == kPageBytes);

inline void drawFromOpenSsl(unsigned char* out, std::size_t length) {
  if (RAND_bytes(out, static_cast<int>(length)) != 1)
    throw std::runtime_error("OpenSSL's random generator failed (RAND_bytes)");
}

// One thread's batch. Trivially destructible, so it stays readable while the thread's other
// thread_local objects are destroyed (one destroyed after the page's owner may still draw).
struct ThreadBatch {
  Page* page = nullptr;
  bool mapped = false;  // a page was tried: never map a second one for this thread
};

inline Page* mapWipedOnForkPage() {
  void* p = ::mmap(nullptr, kPageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  if (::madvise(p, kPageBytes, MADV_WIPEONFORK) != 0) {
    ::munmap(p, kPageBytes);
    return nullptr;
  }
  return static_cast<Page*>(p);
}

// Unmaps the thread's page when the thread ends; later draws go to OpenSSL directly.
class PageOwner {
 public:
  explicit PageOwner(ThreadBatch& batch) : batch_(batch) {}
  ~PageOwner() {
    if (batch_.page) ::munmap(batch_.page, kPageBytes);
    batch_.page = nullptr;
  }
  PageOwner(const PageOwner&) = delete;
  PageOwner& operator=(const PageOwner&) = delete;

 private:
  ThreadBatch& batch_;
};

inline void draw(ThreadBatch& batch, unsigned char* out, std::size_t length) {
  if (length == 0) return;
  Page* page = batch.page;
  if (!page || length > sizeof page->bytes) return drawFromOpenSsl(out, length);
  if (page->remaining < length) {
    drawFromOpenSsl(page->bytes, sizeof page->bytes);
    page->remaining = sizeof page->bytes;
  }
  unsigned char* from = page->bytes + (sizeof page->bytes - page->remaining);
  std::memcpy(out, from, length);
  std::memset(from, 0, length);  // handed out once: not left behind in the page
  page->remaining -= length;
}

}  // namespace random_batch

// Any thread. Throws std::runtime_error if OpenSSL's generator fails.
inline void randomBytes(unsigned char* out, std::size_t length) {
  thread_local random_batch::ThreadBatch batch;
  if (!batch.mapped) {
    batch.mapped = true;
    batch.page = random_batch::mapWipedOnForkPage();
    thread_local random_batch::PageOwner owner(batch);
  }
  random_batch::draw(batch, out, length);
}

}  // namespace ifmesh::detail
