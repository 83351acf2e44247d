#pragma once
// Witness log files for the tests: a temporary path, and reading and rewriting lines.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ifmesh/witness.hpp"

namespace ifmesh::test {

struct TempFile {
  std::string path =
      (std::filesystem::temp_directory_path() /
       ("ifmesh-witness-" + std::to_string(::getpid()) + "-" + newTraceId() + ".jsonl"))
          .string();
  ~TempFile() { std::filesystem::remove(path); }
};

inline std::vector<std::string> lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

inline void rewrite(const std::string& path, const std::vector<std::string>& ls) {
  std::ofstream out(path, std::ios::trunc);
  for (const auto& l : ls) out << l << "\n";
}

}  // namespace ifmesh::test
