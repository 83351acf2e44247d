#pragma once
// Entries of a /proc/self directory: "/proc/self/task" counts the process's threads,
// "/proc/self/fd" its open descriptors (the one this reads through included).
#include <dirent.h>

namespace ifmesh::test {

inline int procEntries(const char* path) {
  int n = 0;
  if (DIR* dir = opendir(path)) {
    while (dirent* e = readdir(dir))
      if (e->d_name[0] != '.') ++n;
    closedir(dir);
  }
  return n;
}

}  // namespace ifmesh::test
