// Cross-witnessing: the heads of a log that other agents recorded in their own logs, checked
// against the log. A log cut back to a signed record verifies on its own; a head another agent
// saw past its end does not fit it.
#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "ifmesh/identity.hpp"
#include "ifmesh/witness.hpp"
#include "json_depth.hpp"

namespace ifmesh {

namespace {

constexpr std::size_t kMaxRecordDepth = 256;

struct SeenHead {
  std::string seer;  // the agent whose log recorded it
  std::uint64_t seq = 0;
  std::string hash, sig, about;
};

std::optional<nlohmann::json> parseRecord(const std::string& line) {
  if (line.empty() || detail::jsonNestingDepth(line, kMaxRecordDepth) > kMaxRecordDepth)
    return std::nullopt;
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

std::string stringField(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The peer heads a log recorded: kPeerWitnessHeadEvent records with a well-formed head.
std::vector<SeenHead> recordedHeads(const std::string& path) {
  std::vector<SeenHead> heads;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(kPeerWitnessHeadEvent) == std::string::npos) continue;
    auto j = parseRecord(line);
    if (!j || stringField(*j, "event") != kPeerWitnessHeadEvent) continue;
    auto meta = j->find("metadata");
    if (meta == j->end() || !meta->is_object()) continue;
    auto seq = meta->find("seq");
    if (seq == meta->end() || !seq->is_number_unsigned()) continue;
    heads.push_back({stringField(*j, "agent_id"), seq->get<std::uint64_t>(),
                     stringField(*meta, "hash"), stringField(*meta, "sig"),
                     stringField(*j, "peer_id")});
  }
  return heads;
}

}  // namespace

CrossCheckResult crossCheckWitnessFile(const std::string& path,
                                       const std::vector<std::string>& peerLogs,
                                       const std::vector<std::string>& keys) {
  CrossCheckResult result;
  // The log: its agents, the keys it names, and the hash of each record by seq.
  std::map<std::uint64_t, std::string> hashes;
  std::set<std::string> agents;
  std::vector<std::string> named;
  {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      auto j = parseRecord(line);
      if (!j) continue;
      auto seq = j->find("seq");
      if (seq == j->end() || !seq->is_number_unsigned()) continue;
      const std::uint64_t n = seq->get<std::uint64_t>();
      hashes[n] = stringField(*j, "hash");
      result.logRecords = std::max(result.logRecords, n);
      if (auto agent = stringField(*j, "agent_id"); !agent.empty()) agents.insert(agent);
      if (stringField(*j, "event") == "witness_signing_key")
        if (auto meta = j->find("metadata"); meta != j->end() && meta->is_object())
          named.push_back(stringField(*meta, "public_key"));
    }
  }
  std::vector<PublicKey> trusted;
  for (const auto& k : keys.empty() ? named : keys)
    if (auto key = PublicKey::parse(k)) trusted.push_back(*key);
  auto signedByLog = [&](const SeenHead& h) {
    const std::string bytes = witnessSignedBytes(h.hash);
    return std::any_of(trusted.begin(), trusted.end(),
                       [&](const PublicKey& k) { return k.verify(bytes, h.sig); });
  };

  result.ok = true;
  for (const auto& peerPath : peerLogs) {
    PeerLogCheck check;
    check.path = peerPath;
    // The evidence is only as good as its own log: a broken chain is not used.
    VerifyResult own = verifyWitnessFile(peerPath);
    if (!own.ok) {
      check.reason = own.reason;
      if (own.firstBadLine) check.reason += " (line " + std::to_string(*own.firstBadLine) + ")";
      result.ok = false;
      result.peers.push_back(std::move(check));
      continue;
    }
    check.usable = true;
    // One finding of each kind: the highest seq seen past the end, the lowest that differs.
    std::optional<SeenHead> pastEnd, differs;
    std::size_t mismatches = 0;
    for (auto& h : recordedHeads(peerPath)) {
      // A head is about this log when the log's key signed it; one that names the log's agent
      // but does not verify is made up (or from another key) and proves nothing.
      if (!signedByLog(h)) {
        if (agents.contains(h.about)) ++check.unverifiable;
        continue;
      }
      ++check.heads;
      check.latestSeq = std::max(check.latestSeq, h.seq);
      if (h.seer.empty()) h.seer = peerPath;
      auto it = hashes.find(h.seq);
      if (it == hashes.end() && h.seq > result.logRecords) {
        if (!pastEnd || h.seq > pastEnd->seq) pastEnd = h;
      } else if (it == hashes.end() || it->second != h.hash) {
        ++mismatches;
        if (!differs || h.seq < differs->seq) differs = h;
      }
    }
    if (pastEnd)
      check.findings.push_back("truncated: " + pastEnd->seer + " saw seq " +
                               std::to_string(pastEnd->seq) + ", log ends at " +
                               std::to_string(result.logRecords));
    if (differs) {
      auto it = hashes.find(differs->seq);
      check.findings.push_back(
          "rewritten at seq " + std::to_string(differs->seq) + ": " + differs->seer + " saw hash " +
          differs->hash + ", the log holds " +
          (it == hashes.end() ? std::string("no record with that seq") : it->second) + " (" +
          std::to_string(mismatches) + " seen heads do not match)");
    }
    if (!check.findings.empty()) result.ok = false;
    result.peers.push_back(std::move(check));
  }
  return result;
}

}  // namespace ifmesh
