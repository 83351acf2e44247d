#pragma once
// `ifmesh bench`: runs scenarios, prints each block, writes JSON.
#include <CLI/CLI.hpp>

namespace ifmesh::bench {

// Adds the subcommand to the CLI; the callback runs it and sets `exitCode`.
void addBenchCommand(CLI::App& app, int& exitCode);

}  // namespace ifmesh::bench
