#pragma once
// A one-line progress bar on stderr, drawn only when stderr is a terminal.
#include <string>

namespace ifmesh::bench {

class ProgressBar {
 public:
  ProgressBar();
  void update(const std::string& label, double fraction);
  void finish();

 private:
  bool enabled_;
  int lastPermille_ = -1;
  std::string lastLabel_;
};

}  // namespace ifmesh::bench
