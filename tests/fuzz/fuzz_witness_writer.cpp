// The witness writer on hostile bytes: the input is an existing log file the writer must resume
// (torn, corrupt, or someone else's), and also the text of the event it then records. The
// writer either refuses the file with an error or resumes it; when the complete lines it found
// formed a valid chain, the file it leaves verifies, whatever bytes the event carried.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "fuzz_check.hpp"
#include "ifmesh/witness.hpp"

namespace {
// The file each input is written to, one per fuzzing process, removed when the process exits. A
// plain array: it must outlive the exit handler that removes the file.
char scratch[64];

const char* scratchPath() {
  if (scratch[0] == '\0') {
    std::snprintf(scratch, sizeof scratch, "/tmp/ifmesh-fuzz-witness-writer-%d",
                  static_cast<int>(::getpid()));
    std::atexit([] { ::unlink(scratch); });
  }
  return scratch;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = scratchPath();
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  const auto lastNewline = bytes.rfind('\n');
  std::istringstream complete(lastNewline == std::string::npos ? ""
                                                               : bytes.substr(0, lastNewline + 1));
  const bool chainValid = ifmesh::verifyWitnessStream(complete).ok;
  try {
    ifmesh::FileWitnessSink sink(path);
    ifmesh::WitnessEvent e;
    e.event = "fuzz";
    e.peerId = bytes.substr(0, 64);
    e.metadata = {{"raw", bytes.substr(0, 512)}};
    sink.record(e);
    sink.flush();
  } catch (const std::runtime_error&) {
    return 0;  // a corrupt last record: refused, the file left as it was
  }
  if (chainValid) {
    auto r = ifmesh::verifyWitnessFile(path);
    if (!r.ok) std::fprintf(stderr, "%s\n", r.reason.c_str());
    FUZZ_CHECK(r.ok);
  }
  return 0;
}
