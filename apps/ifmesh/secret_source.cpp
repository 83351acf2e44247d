#include "secret_source.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace ifmesh::cli {

std::string secretFrom(const std::string& value, const std::string& file, const char* fileFlag,
                       const char* envVar) {
  if (!value.empty()) return value;
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in)
      throw std::runtime_error(std::string(fileFlag) + " '" + file +
                               "' cannot be read: " + std::strerror(errno));
    std::string line;
    std::getline(in, line);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (line.empty())
      throw std::runtime_error(std::string(fileFlag) + " '" + file + "' holds no secret");
    return line;
  }
  const char* env = std::getenv(envVar);
  return env ? env : "";
}

}  // namespace ifmesh::cli
