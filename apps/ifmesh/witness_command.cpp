// `ifmesh witness verify FILE`: checks a witness log's hash chain.
#include <iostream>

#include "commands.hpp"
#include "ifmesh/witness.hpp"

namespace ifmesh::cli {

void addWitnessCommand(CLI::App& app, int& exitCode) {
  CLI::App* witness = app.add_subcommand("witness", "Witness audit log tools");
  witness->require_subcommand(1);
  auto path = std::make_shared<std::string>();
  CLI::App* verify = witness->add_subcommand("verify", "Verify a witness JSON-lines file");
  verify->add_option("file", *path, "The witness log")->required();
  verify->callback([path, &exitCode] {
    VerifyResult r = verifyWitnessFile(*path);
    if (r.ok) {
      std::cout << "OK: " << r.records << " records, hash chain intact\n";
      return;
    }
    std::cout << "BROKEN: " << r.reason;
    if (r.firstBadLine) std::cout << " (line " << *r.firstBadLine << ")";
    std::cout << "; " << r.records << " records verified before it\n";
    exitCode = 2;
  });
}

}  // namespace ifmesh::cli
