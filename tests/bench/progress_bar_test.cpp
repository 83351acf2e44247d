// The benchmark's progress output: a bar on a terminal, one line per phase elsewhere.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/progress_bar.hpp"

namespace ifmesh::bench {
namespace {

// What a ProgressBar writes, read back from a memory stream.
struct Captured {
  char* data = nullptr;
  std::size_t size = 0;
  std::FILE* file = open_memstream(&data, &size);
  ~Captured() { std::free(data); }
  std::string text() {
    std::fflush(file);
    std::string out(data, size);
    return out;
  }
  void close() { std::fclose(file); }
};

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(ProgressBar, OffATerminalPrintsOneLinePerPhase) {
  Captured out;
  ProgressBar bar(out.file, false);
  for (int i = 0; i <= 100; ++i) bar.update("p2p: echo", i / 100.0);
  for (int i = 0; i <= 100; ++i) bar.update("p2p: bulk", i / 100.0);
  bar.finish();
  bar.update("p2p: echo", 0);  // a new scenario's phase of the same name still gets its line
  std::string text = out.text();
  out.close();
  EXPECT_EQ(count(text, "\n"), 3u) << text;
  EXPECT_EQ(count(text, "p2p: echo\n"), 2u) << text;
  EXPECT_EQ(count(text, "p2p: bulk\n"), 1u) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos) << text;
  EXPECT_EQ(text.rfind("[", 0), 0u) << "each line starts with the elapsed time: " << text;
}

TEST(ProgressBar, OnATerminalRedrawsOneLine) {
  Captured out;
  ProgressBar bar(out.file, true);
  bar.update("mesh5: all-pairs echo", 0.5);
  bar.update("mesh5: all-pairs echo", 1.0);
  bar.finish();
  std::string text = out.text();
  out.close();
  EXPECT_EQ(text.find('\n'), std::string::npos) << text;
  EXPECT_NE(text.find("50.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("100.0%"), std::string::npos) << text;
}

}  // namespace
}  // namespace ifmesh::bench
