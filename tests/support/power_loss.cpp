#include "support/power_loss.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <vector>

extern "C" {
#include "support/power_loss_format.h"
}

namespace ifmesh::test {

namespace {

struct Undo {
  std::uint64_t number;  // the record's place in the log
  std::string path;
  std::uint64_t offset, oldSize;
  std::string bytes;
};

void restore(const Undo& u) {
  const int fd = ::open(u.path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("power loss: cannot open " + u.path);
  bool ok = u.bytes.empty() ||
            ::pwrite(fd, u.bytes.data(), u.bytes.size(), static_cast<off_t>(u.offset)) ==
                static_cast<ssize_t>(u.bytes.size());
  ok = ok && ::ftruncate(fd, static_cast<off_t>(u.oldSize)) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("power loss: cannot restore " + u.path);
}

}  // namespace

PowerLossUndo undoUnsyncedWrites(const std::string& logPath) {
  std::ifstream in(logPath, std::ios::binary);
  if (!in) throw std::runtime_error("power loss: cannot read the undo log " + logPath);
  std::vector<Undo> writes;
  std::map<std::string, std::uint64_t> syncedBefore;  // per file: records below this are on disk
  PowerLossUndo result;
  for (std::uint64_t number = 0;; ++number) {
    PowerLossRecord r{};
    // A record cut short by the kill describes a write that had not started (the shim writes
    // the whole record first) or a sync that had not been counted: it ends the log.
    if (!in.read(reinterpret_cast<char*>(&r), sizeof r)) break;
    if (r.pathLength > 4096 || r.length > (std::uint64_t{1} << 32))
      throw std::runtime_error("power loss: undo log damaged");
    std::string path(r.pathLength, '\0'), bytes(r.length, '\0');
    if (!in.read(path.data(), static_cast<std::streamsize>(path.size())) ||
        !in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())))
      break;
    if (r.kind == kPowerLossSync) {
      ++result.syncs;
      auto& s = syncedBefore[path];
      s = std::max(s, r.covers);
    } else if (r.kind == kPowerLossWrite) {
      writes.push_back({number, std::move(path), r.offset, r.oldSize, std::move(bytes)});
    } else {
      throw std::runtime_error("power loss: unknown record in the undo log");
    }
  }
  for (auto it = writes.rbegin(); it != writes.rend(); ++it) {
    auto synced = syncedBefore.find(it->path);
    if (synced != syncedBefore.end() && it->number < synced->second) {
      ++result.writesKept;
      continue;
    }
    restore(*it);
    ++result.writesUndone;
  }
  in.close();
  std::filesystem::remove(logPath);
  return result;
}

std::string powerLossPreload() {
  return IFMESH_POWER_LOSS_PRELOAD;
}

}  // namespace ifmesh::test
