/* The undo log that power_loss_shim.c writes and power_loss.hpp reads: records one after the
 * other, each this header, then the path (pathLength bytes, no terminator), then `length` bytes.
 * Fields are in the host's byte order: the log never leaves the machine that wrote it. */
#ifndef IFMESH_TESTS_SUPPORT_POWER_LOSS_FORMAT_H
#define IFMESH_TESTS_SUPPORT_POWER_LOSS_FORMAT_H

#include <stdint.h>

enum {
  /* A write (or truncation) is about to change the file: `length` bytes from `offset` are what
   * it held there, `oldSize` its size. */
  kPowerLossWrite = 1,
  /* An fsync/fdatasync of the file succeeded: records of the file before record number `covers`
   * (counting from 0) are on disk. */
  kPowerLossSync = 2
};

struct PowerLossRecord {
  uint32_t kind;
  uint32_t pathLength;
  uint64_t offset;
  uint64_t oldSize;
  uint64_t length;
  uint64_t covers;
};

#endif
