// Witness JSON-lines files (possibly from another host, or tampered with): verify the hash
// chain straight from the bytes.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "fuzz_check.hpp"
#include "ifmesh/witness.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  ifmesh::VerifyResult r = ifmesh::verifyWitnessStream(in);
  FUZZ_CHECK(r.ok != r.firstBadLine.has_value());
  return 0;
}
