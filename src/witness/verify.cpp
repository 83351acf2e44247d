#include <fstream>

#include "ifmesh/witness.hpp"
#include "json_depth.hpp"

namespace ifmesh {

namespace {
constexpr std::size_t kMaxRecordDepth = 256;  // records are shallow; metadata is the caller's
}  // namespace

VerifyResult verifyWitnessFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    VerifyResult r;
    r.reason = "cannot open " + path;
    return r;
  }
  return verifyWitnessStream(in);
}

VerifyResult verifyWitnessStream(std::istream& in) {
  VerifyResult r;
  std::string line, prevHash(64, '0');
  std::uint64_t expectedSeq = 1;
  std::size_t lineNo = 0;
  auto fail = [&](const std::string& why) {
    r.firstBadLine = lineNo;
    r.reason = why;
    return r;
  };
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.empty()) return fail("empty line");
    // Re-dumping a record recurses per level: a crafted line must not overflow the stack.
    if (detail::jsonNestingDepth(line, kMaxRecordDepth) > kMaxRecordDepth)
      return fail("record nested deeper than " + std::to_string(kMaxRecordDepth) + " levels");
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return fail("not a JSON object");
    auto hashIt = j.find("hash");
    if (hashIt == j.end() || !hashIt->is_string()) return fail("missing hash");
    std::string hash = *hashIt;
    j.erase("hash");
    if (sha256Hex(j.dump()) != hash) return fail("record altered: hash does not match its content");
    auto prev = j.find("prev_hash");
    if (prev == j.end() || !prev->is_string() || *prev != prevHash)
      return fail("chain broken: prev_hash does not match the previous record");
    auto seq = j.find("seq");
    if (seq == j.end() || !seq->is_number_unsigned() || seq->get<std::uint64_t>() != expectedSeq)
      return fail("sequence gap: expected seq " + std::to_string(expectedSeq));
    ++expectedSeq;
    prevHash = sha256Hex(line);
    r.headHash = prevHash;
    ++r.records;
  }
  r.ok = true;
  return r;
}

}  // namespace ifmesh
