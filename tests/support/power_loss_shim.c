/* A power-loss simulator for one process's files, loaded with LD_PRELOAD.
 *
 * Every write to a file under $IFMESH_POWER_LOSS_DIR first appends the bytes it overwrites (and
 * the file's size before it) to the undo log $IFMESH_POWER_LOSS_LOG; an fsync or fdatasync of such
 * a file appends a mark saying that the records logged before the sync began are on disk. After
 * the process is killed, power_loss_restore (support/power_loss.hpp) undoes, newest first, every
 * write no sync covered: the files then hold what a machine that lost power at the kill would
 * find on its disk, in the worst case the model allows (nothing unsynced survives).
 *
 * Covered: open/openat (and their 64-bit names), write, pwrite, pwrite64, ftruncate, fsync,
 * fdatasync, close. Not covered: directory entries (created files are kept), mmap writes, stdio
 * (glibc's internal writes do not pass through here). The log itself is written with plain
 * write(2): it outlives the process in the page cache, which is all a kill needs.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "power_loss_format.h"

enum { kMaxFd = 65536 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char directory[PATH_MAX];
static size_t directoryLength;
static int logFd = -1;
static uint64_t records;      /* records appended to the log so far (under lock) */
static char* tracked[kMaxFd]; /* the path of each tracked descriptor (under lock) */

static int (*realOpen)(const char*, int, ...);
static int (*realOpen64)(const char*, int, ...);
static int (*realOpenat)(int, const char*, int, ...);
static int (*realOpenat64)(int, const char*, int, ...);
static int (*realClose)(int);
static ssize_t (*realWrite)(int, const void*, size_t);
static ssize_t (*realPwrite)(int, const void*, size_t, off64_t);
static ssize_t (*realPwrite64)(int, const void*, size_t, off64_t);
static int (*realFtruncate)(int, off64_t);
static int (*realFtruncate64)(int, off64_t);
static int (*realFsync)(int);
static int (*realFdatasync)(int);

/* The real functions are looked up on first use: calls can arrive before the constructor runs
 * (from other libraries' constructors), and then pass straight through. Two threads racing here
 * store the same values. */
static void resolve(void) {
  if (realFdatasync) return;
  struct {
    void** slot;
    const char* name;
  } const reals[] = {
      {(void**)&realOpen, "open"},           {(void**)&realOpen64, "open64"},
      {(void**)&realOpenat, "openat"},       {(void**)&realOpenat64, "openat64"},
      {(void**)&realClose, "close"},         {(void**)&realWrite, "write"},
      {(void**)&realPwrite, "pwrite"},       {(void**)&realPwrite64, "pwrite64"},
      {(void**)&realFtruncate, "ftruncate"}, {(void**)&realFtruncate64, "ftruncate64"},
      {(void**)&realFsync, "fsync"},         {(void**)&realFdatasync, "fdatasync"}};
  for (size_t i = 0; i < sizeof reals / sizeof reals[0]; ++i) {
    void* found = dlsym(RTLD_NEXT, reals[i].name);
    memcpy(reals[i].slot, &found, sizeof found);  // a function pointer's bytes, without aliasing
  }
}

static void die(const char* what) {
  resolve();
  static const char prefix[] = "power_loss_shim: ";
  (void)!realWrite(2, prefix, sizeof prefix - 1);
  (void)!realWrite(2, what, strlen(what));
  (void)!realWrite(2, "\n", 1);
  abort();
}

__attribute__((constructor)) static void setup(void) {
  resolve();
  const char* dir = getenv("IFMESH_POWER_LOSS_DIR");
  const char* log = getenv("IFMESH_POWER_LOSS_LOG");
  if (!dir || !log || !*dir || !*log) return; /* loaded without a target: a pass-through */
  if (!realpath(dir, directory)) die("IFMESH_POWER_LOSS_DIR does not exist");
  directoryLength = strlen(directory);
  logFd = realOpen(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (logFd < 0) die("cannot open IFMESH_POWER_LOSS_LOG");
}

static void appendAll(const void* data, size_t size) {
  const char* p = data;
  while (size > 0) {
    ssize_t n = realWrite(logFd, p, size);
    if (n <= 0) die("cannot write the undo log");
    p += n;
    size -= (size_t)n;
  }
}

/* Appends one record (under lock). */
static void appendRecord(uint32_t kind, const char* path, uint64_t offset, uint64_t oldSize,
                         const void* bytes, uint64_t length, uint64_t covers) {
  struct PowerLossRecord r = {kind, (uint32_t)strlen(path), offset, oldSize, length, covers};
  appendAll(&r, sizeof r);
  appendAll(path, r.pathLength);
  if (length) appendAll(bytes, length);
  ++records;
}

/* Takes the descriptor when it names a regular file under the directory. */
static void track(int fd) {
  if (fd < 0 || logFd < 0) return;
  char resolved[PATH_MAX];
  char procPath[64];
  snprintf(procPath, sizeof procPath, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(procPath, resolved, sizeof resolved - 1);
  if (n <= 0) return;
  resolved[n] = '\0';
  if (strncmp(resolved, directory, directoryLength) != 0 || resolved[directoryLength] != '/')
    return;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
  if (fd >= kMaxFd) die("descriptor beyond the shim's table");
  pthread_mutex_lock(&lock);
  free(tracked[fd]);
  tracked[fd] = strdup(resolved);
  pthread_mutex_unlock(&lock);
}

/* Logs what [offset, offset + length) and the size hold now, before a write changes them. Called
 * with lock held, for a tracked descriptor. */
static void saveBeforeWrite(int fd, uint64_t offset, uint64_t length) {
  struct stat st;
  if (fstat(fd, &st) != 0) die("fstat of a tracked file failed");
  uint64_t size = (uint64_t)st.st_size;
  uint64_t kept = offset >= size ? 0 : (size - offset < length ? size - offset : length);
  char* old = kept ? malloc(kept) : NULL;
  if (kept && !old) die("out of memory");
  for (uint64_t done = 0; done < kept;) {
    ssize_t n = pread(fd, old + done, kept - done, (off_t)(offset + done));
    if (n <= 0) {
      /* A descriptor opened write-only cannot be read: reopen the path to read it. */
      int rfd = realOpen(tracked[fd], O_RDONLY | O_CLOEXEC);
      if (rfd < 0) die("cannot read a tracked file before writing it");
      for (; done < kept;) {
        ssize_t m = pread(rfd, old + done, kept - done, (off_t)(offset + done));
        if (m <= 0) die("cannot read a tracked file before writing it");
        done += (uint64_t)m;
      }
      realClose(rfd);
      break;
    }
    done += (uint64_t)n;
  }
  appendRecord(kPowerLossWrite, tracked[fd], offset, size, old, kept, 0);
  free(old);
}

static int isTracked(int fd) {
  return fd >= 0 && fd < kMaxFd && tracked[fd] != NULL;
}

/* open and its variants: the mode argument is there only when the flags create a file. */
static mode_t modeArgument(int flags, va_list ap) {
  return flags & (O_CREAT | O_TMPFILE) ? va_arg(ap, mode_t) : 0;
}

static int opened(int fd) {
  track(fd);
  return fd;
}

#define OPEN_LIKE(name, real)                  \
  int name(const char* path, int flags, ...) { \
    resolve();                                 \
    va_list ap;                                \
    va_start(ap, flags);                       \
    mode_t mode = modeArgument(flags, ap);     \
    va_end(ap);                                \
    return opened(real(path, flags, mode));    \
  }
#define OPENAT_LIKE(name, real)                           \
  int name(int dirfd, const char* path, int flags, ...) { \
    resolve();                                            \
    va_list ap;                                           \
    va_start(ap, flags);                                  \
    mode_t mode = modeArgument(flags, ap);                \
    va_end(ap);                                           \
    return opened(real(dirfd, path, flags, mode));        \
  }
OPEN_LIKE(open, realOpen)
OPEN_LIKE(open64, realOpen64)
OPENAT_LIKE(openat, realOpenat)
OPENAT_LIKE(openat64, realOpenat64)

int close(int fd) {
  resolve();
  if (fd >= 0 && fd < kMaxFd) {
    pthread_mutex_lock(&lock);
    free(tracked[fd]);
    tracked[fd] = NULL;
    pthread_mutex_unlock(&lock);
  }
  return realClose(fd);
}

ssize_t write(int fd, const void* data, size_t length) {
  resolve();
  if (!isTracked(fd)) return realWrite(fd, data, length);
  pthread_mutex_lock(&lock);
  ssize_t n = -1;
  if (isTracked(fd)) {
    struct stat st;
    off_t at = (fcntl(fd, F_GETFL) & O_APPEND) && fstat(fd, &st) == 0 ? st.st_size
                                                                      : lseek(fd, 0, SEEK_CUR);
    if (at < 0) die("cannot tell where a write to a tracked file goes");
    saveBeforeWrite(fd, (uint64_t)at, length);
  }
  n = realWrite(fd, data, length);
  pthread_mutex_unlock(&lock);
  return n;
}

_Static_assert(sizeof(off_t) == sizeof(off64_t), "pwrite and pwrite64 share one path");

/* pwrite and pwrite64 (the same offset type on this 64-bit target). */
static ssize_t trackedPwrite(ssize_t (*real)(int, const void*, size_t, off64_t), int fd,
                             const void* data, size_t length, off64_t offset) {
  if (!isTracked(fd)) return real(fd, data, length, offset);
  pthread_mutex_lock(&lock);
  if (isTracked(fd)) saveBeforeWrite(fd, (uint64_t)offset, length);
  ssize_t n = real(fd, data, length, offset);
  pthread_mutex_unlock(&lock);
  return n;
}

ssize_t pwrite(int fd, const void* data, size_t length, off_t offset) {
  resolve();
  return trackedPwrite(realPwrite, fd, data, length, offset);
}

ssize_t pwrite64(int fd, const void* data, size_t length, off64_t offset) {
  resolve();
  return trackedPwrite(realPwrite64, fd, data, length, offset);
}

/* Logs the bytes a truncation removes. Called with lock held, for a tracked descriptor. */
static void saveBeforeTruncate(int fd, uint64_t newSize) {
  struct stat st;
  if (fstat(fd, &st) != 0) die("fstat of a tracked file failed");
  uint64_t size = (uint64_t)st.st_size;
  if (newSize >= size) {
    appendRecord(kPowerLossWrite, tracked[fd], size, size, NULL, 0, 0);
    return;
  }
  saveBeforeWrite(fd, newSize, size - newSize);
}

/* ftruncate and ftruncate64 (the same size type on this 64-bit target). */
static int trackedTruncate(int (*real)(int, off64_t), int fd, off64_t size) {
  if (!isTracked(fd)) return real(fd, size);
  pthread_mutex_lock(&lock);
  if (isTracked(fd)) saveBeforeTruncate(fd, (uint64_t)size);
  int r = real(fd, size);
  pthread_mutex_unlock(&lock);
  return r;
}

int ftruncate(int fd, off_t size) {
  resolve();
  return trackedTruncate(realFtruncate, fd, size);
}

int ftruncate64(int fd, off64_t size) {
  resolve();
  return trackedTruncate(realFtruncate64, fd, size);
}

/* A sync covers the writes logged before it began; writes that race with it are not counted. */
static int syncTracked(int fd, int (*real)(int)) {
  if (!isTracked(fd)) return real(fd);
  pthread_mutex_lock(&lock);
  uint64_t before = records;
  char* path = isTracked(fd) ? strdup(tracked[fd]) : NULL;
  pthread_mutex_unlock(&lock);
  int r = real(fd);
  if (r == 0 && path) {
    pthread_mutex_lock(&lock);
    appendRecord(kPowerLossSync, path, 0, 0, NULL, 0, before);
    pthread_mutex_unlock(&lock);
  }
  free(path);
  return r;
}

int fsync(int fd) {
  resolve();
  return syncTracked(fd, realFsync);
}

int fdatasync(int fd) {
  resolve();
  return syncTracked(fd, realFdatasync);
}
