// `ifmesh witness verify FILE`: checks a witness log's hash chain, and optionally its length and
// head against values kept elsewhere (the only way to notice records cut from the end).
#include <fstream>
#include <iostream>

#include "commands.hpp"
#include "ifmesh/witness.hpp"
#include "usage.hpp"

namespace ifmesh::cli {

namespace {

struct VerifyArgs {
  std::string path, expectHead;
  std::optional<std::size_t> expectRecords;
};

int runVerify(const VerifyArgs& a) {
  if (!std::ifstream(a.path)) throw std::runtime_error(flagError("FILE", a.path, "cannot be read"));
  if (!a.expectHead.empty() &&
      (a.expectHead.size() != 64 ||
       a.expectHead.find_first_not_of("0123456789abcdef") != std::string::npos))
    throw UsageError(flagError("--expect-head", a.expectHead, "expected 64 lowercase hex digits"));
  VerifyResult r = verifyWitnessFile(a.path);
  if (!r.ok) {
    std::cout << "BROKEN: " << r.reason;
    if (r.firstBadLine) std::cout << " (line " << *r.firstBadLine << ")";
    std::cout << "; " << r.records << " records verified before it\n";
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
  std::cout << "OK: " << r.records << " records, hash chain intact, head " << r.headHash << "\n";
  if (!a.expectRecords && a.expectHead.empty())
    std::cout << "(a chain cannot show records cut from its end: keep the head or the count "
                 "elsewhere and pass --expect-head or --expect-records)\n";
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
  verify->add_option("--expect-records", args->expectRecords,
                     "The number of records the log must hold (shows records cut from the end)");
  verify->add_option("--expect-head", args->expectHead,
                     "The hash the log's last record must have (printed by an earlier verify)");
  verify->footer(
      "Example:\n  ifmesh witness verify audit.jsonl\n"
      "  ifmesh witness verify audit.jsonl --expect-head <head printed by an earlier run>\n"
      "Detects any altered, reordered, inserted or removed record, except records cut from the\n"
      "end: only --expect-records or --expect-head (kept elsewhere) show those.");
  verify->callback(
      [args, &exitCode] { exitCode = reportingErrors([&] { return runVerify(*args); }); });
}

}  // namespace ifmesh::cli
