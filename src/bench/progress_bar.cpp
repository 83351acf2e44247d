#include "bench/progress_bar.hpp"

#include <unistd.h>

#include <algorithm>

namespace ifmesh::bench {

ProgressBar::ProgressBar()
    : ProgressBar(::isatty(STDERR_FILENO) == 1 ? stderr : stdout, ::isatty(STDERR_FILENO) == 1) {}

ProgressBar::ProgressBar(std::FILE* out, bool terminal) : out_(out), terminal_(terminal) {}

void ProgressBar::update(const std::string& label, double fraction) {
  if (!terminal_) {
    if (label == lastLabel_) return;
    lastLabel_ = label;
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(out_, "[%7.1f s] %s\n", seconds, label.c_str());
    std::fflush(out_);
    return;
  }
  int permille = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * 1000);
  if (permille == lastPermille_ && label == lastLabel_) return;
  lastPermille_ = permille;
  lastLabel_ = label;
  constexpr int kWidth = 30;
  int filled = permille * kWidth / 1000;
  std::fprintf(out_, "\r%-28.28s [%s%s] %5.1f%%", label.c_str(), std::string(filled, '#').c_str(),
               std::string(kWidth - filled, '.').c_str(), permille / 10.0);
  std::fflush(out_);
}

void ProgressBar::finish() {
  if (terminal_ && lastPermille_ >= 0) std::fprintf(out_, "\r%80s\r", "");
  lastPermille_ = -1;
  // The next scenario's first phase gets its line even when it has the same name.
  lastLabel_.clear();
}

}  // namespace ifmesh::bench
