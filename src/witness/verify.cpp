#include <fstream>

#include "ifmesh/witness.hpp"

namespace ifmesh {

VerifyResult verifyWitnessFile(const std::string& path) {
  VerifyResult r;
  std::ifstream in(path);
  if (!in) {
    r.reason = "cannot open " + path;
    return r;
  }
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
    ++r.records;
  }
  r.ok = true;
  return r;
}

}  // namespace ifmesh
