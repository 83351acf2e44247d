// `ifmesh witness verify FILE`: checks a witness log's hash chain and signatures, optionally
// against the keys it must be signed with, and its length and head against values kept elsewhere
// or against the heads of it that other agents recorded (the only ways to notice records cut back
// to a signed one).
#include <filesystem>
#include <fstream>
#include <iostream>

#include "commands.hpp"
#include "ifmesh/error.hpp"
#include "ifmesh/identity.hpp"
#include "ifmesh/witness.hpp"
#include "usage.hpp"

namespace ifmesh::cli {

namespace {

struct VerifyArgs {
  std::string path, expectHead;
  std::vector<std::string> keys, peerLogs;
  std::optional<std::size_t> expectRecords;
};

// --key: a PEM file (public key, or the agent's private key file) or the base64 public key the
// agent announces to the directory.
std::string trustedKey(const std::string& value) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(value, ec)) {
    try {
      return PublicKey::loadPem(value).base64();
    } catch (const Error& e) {
      throw UsageError(flagError("--key", value, e.what()));
    }
  }
  if (auto key = PublicKey::parse(value)) return key->base64();
  throw UsageError(flagError(
      "--key", value, "neither a PEM key file nor a base64 Ed25519 public key (44 characters)"));
}

void reportSignatures(const VerifyResult& r) {
  if (r.signatures == 0) {
    std::cout << "hash chain only: no record is signed, so anyone able to write the file could "
                 "have rewritten it and recomputed every hash\n";
    return;
  }
  std::cout << r.signatures << " signatures valid, by ";
  for (std::size_t i = 0; i < r.keys.size(); ++i) std::cout << (i ? ", " : "") << r.keys[i];
  std::cout << (r.keysPinned ? " (the given --key)\n"
                             : "\nthe key was NOT pinned: it is the one the log names, which a "
                               "rewriter with a key of their own could also do; pass --key\n");
  std::cout << "records 1-" << r.signedRecords << " are covered by a signature";
  if (r.unsignedTail == 0)
    std::cout << "; the last record is signed\n";
  else
    std::cout << "; the last " << r.unsignedTail
              << " records are an unsigned tail (proven by the hash chain only: anyone able to "
                 "write the file could have changed, cut or added them)\n";
}

// --peer-log: the heads of this log that other agents recorded, against the log. True when
// every peer log is usable and no head contradicts the log.
bool reportCrossCheck(const VerifyArgs& a, const std::vector<std::string>& keys) {
  CrossCheckResult x = crossCheckWitnessFile(a.path, a.peerLogs, keys);
  for (const auto& peer : x.peers) {
    if (!peer.usable) {
      std::cout << "EVIDENCE UNUSABLE: peer log " << peer.path
                << " does not verify: " << peer.reason << "\n";
      continue;
    }
    for (const auto& finding : peer.findings) std::cout << finding << "\n";
    if (peer.unverifiable > 0)
      std::cout << peer.path << ": " << peer.unverifiable
                << " heads naming this log's agent are not signed by its key and prove nothing\n";
    if (peer.findings.empty())
      std::cout << "cross-witnessed by " << peer.path << ": " << peer.heads
                << " heads match the log"
                << (peer.heads ? ", the latest at seq " + std::to_string(peer.latestSeq) +
                                     " (records after it were not seen there)"
                               : std::string(" (none seen: it proves nothing about this log)"))
                << "\n";
  }
  if (keys.empty() && !a.peerLogs.empty())
    std::cout << "(heads were checked with the keys the log names; pass --key so that a "
                 "rewriter's own key cannot discard them)\n";
  return x.ok;
}

int runVerify(const VerifyArgs& a) {
  if (!std::ifstream(a.path)) throw std::runtime_error(flagError("FILE", a.path, "cannot be read"));
  for (const auto& p : a.peerLogs)
    if (!std::ifstream(p)) throw std::runtime_error(flagError("--peer-log", p, "cannot be read"));
  if (!a.expectHead.empty() &&
      (a.expectHead.size() != 64 ||
       a.expectHead.find_first_not_of("0123456789abcdef") != std::string::npos))
    throw UsageError(flagError("--expect-head", a.expectHead, "expected 64 lowercase hex digits"));
  VerifyOptions options;
  for (const auto& k : a.keys) options.trustedKeys.push_back(trustedKey(k));
  VerifyResult r = verifyWitnessFile(a.path, options);
  // Evidence from other agents' logs is checked whatever the log's own check says: it names
  // what was cut or rewritten.
  const bool crossOk = a.peerLogs.empty() || reportCrossCheck(a, options.trustedKeys);
  if (!r.ok) {
    if (r.firstBadLine) {
      std::cout << "BROKEN: " << r.reason << " (line " << *r.firstBadLine << ")";
      std::cout << "; " << r.records << " records verified before it\n";
    } else {
      std::cout << "NOT SIGNED: " << r.reason << "; the " << r.records
                << " records form an intact hash chain, which anyone able to write the file "
                   "could have recomputed\n";
    }
    return 3;
  }
  if (a.expectRecords && r.records != *a.expectRecords) {
    std::cout << "SHORT: " << r.records << " records, " << *a.expectRecords
              << " expected: records were " << (r.records < *a.expectRecords ? "cut" : "added")
              << " at the end (the chain itself is intact)\n";
    return 3;
  }
  if (!a.expectHead.empty() && r.headHash != a.expectHead) {
    std::cout << "HEAD MISMATCH: the last record's hash is " << r.headHash << ", " << a.expectHead
              << " expected (the chain itself is intact)\n";
    return 3;
  }
  if (!crossOk) {
    std::cout << "CONTRADICTED: the log verifies on its own (" << r.records
              << " records), but other agents saw it otherwise (above)\n";
    return 3;
  }
  std::cout << "OK: " << r.records << " records, hash chain intact, head " << r.headHash << "\n";
  reportSignatures(r);
  if (!a.expectRecords && a.expectHead.empty() && a.peerLogs.empty())
    std::cout << "(a log cannot show records cut from its end back to a signed record: keep the "
                 "head or the count elsewhere and pass --expect-head or --expect-records)\n";
  return 0;
}

}  // namespace

void addWitnessCommand(CLI::App& app, int& exitCode) {
  CLI::App* witness = app.add_subcommand("witness", "Witness audit log tools");
  witness->require_subcommand(1);
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* verify = witness->add_subcommand(
      "verify", "Verify a witness JSON-lines file: exit 0 intact, 3 altered or not as expected");
  verify->add_option("file", args->path, "The witness log")->required();
  verify->add_option("--key", args->keys,
                     "A key the log must be signed with: a PEM file (public key, or the agent's "
                     "--key-file) or the base64 public key; repeat for logs signed by several");
  verify->add_option("--expect-records", args->expectRecords,
                     "The number of records the log must hold (shows records cut from the end)");
  verify->add_option("--expect-head", args->expectHead,
                     "The hash the log's last record must have (printed by an earlier verify)");
  verify->add_option("--peer-log", args->peerLogs,
                     "Another agent's witness log, as evidence: every head of this log it "
                     "recorded (peer_witness_head) must be in this log; repeatable");
  verify->footer(
      "Example:\n  ifmesh witness verify audit.jsonl --key agent.pem\n"
      "  ifmesh witness verify audit.jsonl --expect-head <head printed by an earlier run>\n"
      "Detects any altered, reordered, inserted or removed record. With --key, also a log\n"
      "rewritten and re-hashed, or signed by another key: only records after the last\n"
      "signature (reported as the unsigned tail) could have been changed without the key.\n"
      "A log cut back to a signed record shows only with --expect-records, --expect-head,\n"
      "or --peer-log OTHER.jsonl when another agent saw a head past the cut.");
  verify->callback(
      [args, &exitCode] { exitCode = reportingErrors([&] { return runVerify(*args); }); });
}

}  // namespace ifmesh::cli
