#include "bench/progress_bar.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace ifmesh::bench {

ProgressBar::ProgressBar() : enabled_(::isatty(STDERR_FILENO) == 1) {}

void ProgressBar::update(const std::string& label, double fraction) {
  if (!enabled_) return;
  int permille = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * 1000);
  if (permille == lastPermille_ && label == lastLabel_) return;
  lastPermille_ = permille;
  lastLabel_ = label;
  constexpr int kWidth = 30;
  int filled = permille * kWidth / 1000;
  std::fprintf(stderr, "\r%-28.28s [%s%s] %5.1f%%", label.c_str(), std::string(filled, '#').c_str(),
               std::string(kWidth - filled, '.').c_str(), permille / 10.0);
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (enabled_ && lastPermille_ >= 0) std::fprintf(stderr, "\r%80s\r", "");
  lastPermille_ = -1;
}

}  // namespace ifmesh::bench
