// The ifmesh command-line tool: dispatch only; each subcommand lives in its own file or layer.
#include <CLI/CLI.hpp>

#include "bench/bench_command.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"ifmesh: peer-to-peer agent messaging over WebRTC DataChannels"};
  app.set_version_flag("--version", "ifmesh 0.1.0");
  app.require_subcommand(1);
  int exitCode = 0;
  ifmesh::bench::addBenchCommand(app, exitCode);
  ifmesh::cli::addSignalCommand(app, exitCode);
  ifmesh::cli::addAgentCommands(app, exitCode);
  ifmesh::cli::addWitnessCommand(app, exitCode);
  ifmesh::cli::addFloodCommand(app, exitCode);
  CLI11_PARSE(app, argc, argv);
  return exitCode;
}
