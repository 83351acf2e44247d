#pragma once
// A simulated power loss for processes run with support/power_loss_shim.c preloaded: the shim
// logs what each write to a watched directory overwrote; after the process is killed,
// undoUnsyncedWrites() puts back, newest first, everything no fsync/fdatasync covered. The files
// are then what the disk of a machine that lost power at the kill holds if nothing unsynced
// reached it, the worst case of that model.
#include <cstdint>
#include <string>

namespace ifmesh::test {

struct PowerLossUndo {
  std::uint64_t writesUndone = 0;  // writes that no sync covered
  std::uint64_t writesKept = 0;    // writes a sync covered
  std::uint64_t syncs = 0;
};

// Applies the undo log at `logPath` to the files it names, then removes the log. Throws
// std::runtime_error on a log it cannot read or a file it cannot restore.
PowerLossUndo undoUnsyncedWrites(const std::string& logPath);

// The LD_PRELOAD value that loads the shim (after the sanitizer runtimes in a sanitizer build).
std::string powerLossPreload();

}  // namespace ifmesh::test
