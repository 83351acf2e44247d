#pragma once
// Makes a directory's entries durable: the names of files created, renamed or removed in it,
// which a sync of each file's contents does not cover.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace ifmesh::detail {

// fsync of the directory itself; 0 on success, else the errno of the open or fsync that failed.
inline int syncDirectory(const std::string& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int error = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return error;
}

}  // namespace ifmesh::detail
