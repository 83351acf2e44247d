#include <algorithm>
#include <fstream>

#include "ifmesh/identity.hpp"
#include "ifmesh/witness.hpp"
#include "json_depth.hpp"

namespace ifmesh {

namespace {
constexpr std::size_t kMaxRecordDepth = 256;  // records are shallow; metadata is the caller's
}  // namespace

VerifyResult verifyWitnessFile(const std::string& path, const VerifyOptions& options) {
  std::ifstream in(path);
  if (!in) {
    VerifyResult r;
    r.reason = "cannot open " + path;
    return r;
  }
  return verifyWitnessStream(in, options);
}

VerifyResult verifyWitnessStream(std::istream& in, const VerifyOptions& options) {
  VerifyResult r;
  r.keysPinned = !options.trustedKeys.empty();
  std::string line, prevHash(64, '0');
  std::uint64_t expectedSeq = 1;
  std::size_t lineNo = 0;
  std::optional<PublicKey> key;  // the key the last witness_signing_key record named
  auto fail = [&](const std::string& why) {
    r.firstBadLine = lineNo;
    r.reason = why;
    r.unsignedTail = r.records - r.signedRecords;
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
    std::optional<std::string> sig;
    if (auto sigIt = j.find("sig"); sigIt != j.end()) {
      if (!sigIt->is_string()) return fail("sig is not a string");
      sig = sigIt->get<std::string>();
      j.erase(sigIt);
    }
    if (sha256Hex(j.dump()) != hash) return fail("record altered: hash does not match its content");
    auto prev = j.find("prev_hash");
    if (prev == j.end() || !prev->is_string() || *prev != prevHash)
      return fail("chain broken: prev_hash does not match the previous record");
    auto seq = j.find("seq");
    if (seq == j.end() || !seq->is_number_unsigned() || seq->get<std::uint64_t>() != expectedSeq)
      return fail("sequence gap: expected seq " + std::to_string(expectedSeq));
    auto event = j.find("event");
    if (event != j.end() && *event == "witness_signing_key") {
      auto meta = j.find("metadata");
      const nlohmann::json* named = nullptr;
      if (meta != j.end() && meta->is_object()) {
        auto it = meta->find("public_key");
        if (it != meta->end() && it->is_string()) named = &*it;
      }
      if (!named) return fail("key record without a public_key");
      const std::string text = *named;
      key = PublicKey::parse(text);
      if (!key) return fail("key record names no base64 Ed25519 public key");
      if (r.keysPinned && std::find(options.trustedKeys.begin(), options.trustedKeys.end(), text) ==
                              options.trustedKeys.end())
        return fail("signed with another key: the log names " + text +
                    ", which is not a trusted key");
      if (!sig) return fail("key record not signed by its key");
      if (std::find(r.keys.begin(), r.keys.end(), text) == r.keys.end()) r.keys.push_back(text);
    }
    if (sig) {
      if (!key) return fail("signed record before any witness_signing_key record");
      if (!key->verify(witnessSignedBytes(hash), *sig))
        return fail("signature does not verify with the key " + key->base64());
    }
    ++expectedSeq;
    prevHash = sha256Hex(line);
    r.headHash = prevHash;
    ++r.records;
    if (sig) {
      ++r.signatures;
      r.signedRecords = r.records;
    }
  }
  r.unsignedTail = r.records - r.signedRecords;
  if (r.keysPinned && r.signatures == 0) {
    r.reason = "not signed: no record carries a signature by a trusted key";
    return r;
  }
  r.ok = true;
  return r;
}

}  // namespace ifmesh
