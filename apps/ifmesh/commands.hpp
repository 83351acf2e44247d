#pragma once
// The ifmesh subcommands, one file each.
#include <CLI/CLI.hpp>

namespace ifmesh::cli {

void addSignalCommand(CLI::App& app, int& exitCode);
void addAgentCommands(CLI::App& app, int& exitCode);  // agent, send
void addWitnessCommand(CLI::App& app, int& exitCode);
void addFloodCommand(CLI::App& app, int& exitCode);
void addTokenCommand(CLI::App& app, int& exitCode);

}  // namespace ifmesh::cli
