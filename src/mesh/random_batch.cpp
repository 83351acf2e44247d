#include "mesh/random_batch.hpp"

#include <openssl/rand.h>
#include <sys/mman.h>

#include <cstring>
#include <stdexcept>

namespace ifmesh::detail {

namespace {

constexpr std::size_t kPageBytes = 4096;

// The page's layout. A wiped page reads as remaining == 0: empty, refilled on the next draw.
struct Page {
  std::size_t remaining;
  unsigned char bytes[kPageBytes - sizeof(std::size_t)];
};
static_assert(sizeof(Page) == kPageBytes);

void drawFromOpenSsl(unsigned char* out, std::size_t length) {
  if (RAND_bytes(out, static_cast<int>(length)) != 1)
    throw std::runtime_error("OpenSSL's random generator failed (RAND_bytes)");
}

// One thread's batch: an anonymous page, unmapped when the thread ends.
class ThreadBatch {
 public:
  ThreadBatch() {
    void* p =
        ::mmap(nullptr, kPageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    if (::madvise(p, kPageBytes, MADV_WIPEONFORK) != 0) {
      ::munmap(p, kPageBytes);
      return;
    }
    page_ = static_cast<Page*>(p);
  }
  ~ThreadBatch() {
    if (page_) ::munmap(page_, kPageBytes);
  }
  ThreadBatch(const ThreadBatch&) = delete;
  ThreadBatch& operator=(const ThreadBatch&) = delete;

  void draw(unsigned char* out, std::size_t length) {
    if (length == 0) return;
    if (!page_ || length > sizeof page_->bytes) return drawFromOpenSsl(out, length);
    if (page_->remaining < length) {
      drawFromOpenSsl(page_->bytes, sizeof page_->bytes);
      page_->remaining = sizeof page_->bytes;
    }
    unsigned char* from = page_->bytes + (sizeof page_->bytes - page_->remaining);
    std::memcpy(out, from, length);
    std::memset(from, 0, length);  // handed out once: not left behind in the page
    page_->remaining -= length;
  }

 private:
  Page* page_ = nullptr;
};

}  // namespace

void randomBytes(unsigned char* out, std::size_t length) {
  thread_local ThreadBatch batch;
  batch.draw(out, length);
}

}  // namespace ifmesh::detail
