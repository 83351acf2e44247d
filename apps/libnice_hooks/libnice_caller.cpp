#include "libnice_caller.hpp"

#include <dlfcn.h>
#include <link.h>

#include <cstdint>
#include <cstring>

namespace ifmesh::rtc {

namespace {

struct CodeRange {
  std::uintptr_t begin = 0;
  std::uintptr_t end = 0;
};

int findLibniceCode(dl_phdr_info* info, std::size_t, void* out) {
  if (info->dlpi_name == nullptr || std::strstr(info->dlpi_name, "libnice") == nullptr) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& segment = info->dlpi_phdr[i];
    if (segment.p_type != PT_LOAD || (segment.p_flags & PF_X) == 0) continue;
    auto* range = static_cast<CodeRange*>(out);
    range->begin = info->dlpi_addr + segment.p_vaddr;
    range->end = range->begin + segment.p_memsz;
    return 1;
  }
  return 0;
}

// libnice is a load-time dependency of this library, so it is mapped before any of its calls
// reaches an interposer; if it were not, every call falls back to asking the dynamic linker.
CodeRange libniceCode() {
  static const CodeRange range = [] {
    CodeRange r;
    dl_iterate_phdr(&findLibniceCode, &r);
    return r;
  }();
  return range;
}

}  // namespace

bool calledFromLibnice(const void* returnAddress) {
  const CodeRange range = libniceCode();
  const auto address = reinterpret_cast<std::uintptr_t>(returnAddress);
  if (range.end != 0) return address >= range.begin && address < range.end;
  Dl_info info{};
  if (dladdr(returnAddress, &info) == 0 || info.dli_fname == nullptr) return false;
  return std::strstr(info.dli_fname, "libnice") != nullptr;
}

}  // namespace ifmesh::rtc
