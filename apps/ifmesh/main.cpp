// The ifmesh command-line tool: dispatch only; each subcommand lives in its own file or layer.
// Every failure is one line on stderr starting "error: ", exit code 2 for a wrong command line
// and 1 for a command that could not do its job (usage.hpp).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>

#include "bench/bench_command.hpp"
#include "commands.hpp"
#include "usage.hpp"

int main(int argc, char** argv) {
  CLI::App app{"ifmesh: peer-to-peer agent messaging over WebRTC DataChannels"};
  app.set_version_flag("--version", "ifmesh 0.1.0");
  app.require_subcommand(1);
  app.option_defaults()->always_capture_default();
  app.footer(
      "Example:\n  ifmesh signal --port 8443 &\n"
      "  ifmesh agent --id bob --signal ws://127.0.0.1:8443 --echo &\n"
      "  ifmesh send --id alice --signal ws://127.0.0.1:8443 --to bob --payload '{\"hi\":1}'");
  int exitCode = 0;
  ifmesh::bench::addBenchCommand(app, exitCode);
  ifmesh::cli::addSignalCommand(app, exitCode);
  ifmesh::cli::addAgentCommands(app, exitCode);
  ifmesh::cli::addWitnessCommand(app, exitCode);
  ifmesh::cli::addFloodCommand(app, exitCode);
  ifmesh::cli::addTokenCommand(app, exitCode);

  std::vector<std::string> commands;
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    commands.push_back(sub->get_name());
  if (argc > 1 && argv[1][0] != '-' &&
      std::find(commands.begin(), commands.end(), argv[1]) == commands.end()) {
    std::string close = ifmesh::cli::closestMatch(argv[1], commands);
    std::cerr << "error: unknown command '" << argv[1] << "'"
              << (close.empty() ? "" : "; did you mean '" + close + "'?")
              << " (ifmesh --help lists them)\n";
    return ifmesh::cli::kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "error: " << e.what() << " (add --help for usage)\n";
    return ifmesh::cli::kExitUsage;
  } catch (const std::exception& e) {  // a command body that did not report its own failure
    std::cerr << "error: " << e.what() << "\n";
    return ifmesh::cli::kExitFailure;
  }
  return exitCode;
}
