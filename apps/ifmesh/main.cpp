// The ifmesh command-line tool: dispatch only; each subcommand lives in its layer.
#include <CLI/CLI.hpp>

#include "bench/bench_command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"ifmesh: peer-to-peer agent messaging over WebRTC DataChannels"};
  app.set_version_flag("--version", "ifmesh 0.1.0");
  app.require_subcommand(1);
  int exitCode = 0;
  ifmesh::bench::addBenchCommand(app, exitCode);
  CLI11_PARSE(app, argc, argv);
  return exitCode;
}
