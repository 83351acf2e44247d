#pragma once
// Progress of a benchmark run. On a terminal (stderr is a tty): a one-line bar on stderr, redrawn
// in place. Elsewhere (piped, CI): one line per phase on stdout with the time since the run
// began, so that a log shows what a long run is doing without a line per percent.
#include <chrono>
#include <cstdio>
#include <string>

namespace ifmesh::bench {

class ProgressBar {
 public:
  // Decides the mode from stderr.
  ProgressBar();
  // `terminal`: draw the bar on `out`; otherwise print a line per phase to `out`.
  ProgressBar(std::FILE* out, bool terminal);
  void update(const std::string& label, double fraction);
  void finish();

 private:
  std::FILE* out_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  int lastPermille_ = -1;
  std::string lastLabel_;
};

}  // namespace ifmesh::bench
