// `ifmesh token`: prints an auth token for a server started with a shared secret.
#include <iostream>

#include "commands.hpp"
#include "ifmesh/signaling.hpp"
#include "secret_source.hpp"
#include "usage.hpp"

namespace ifmesh::cli {

namespace {

struct TokenArgs {
  std::string secret, secretFile, id, ttl = "24h";
};

int runToken(const TokenArgs& a) {
  checkAgentId("--id", a.id);
  auto ttl = parseDuration("--ttl", a.ttl);
  if (ttl > signaling::kMaxTokenLifetime)
    throw UsageError(flagError("--ttl", a.ttl, "servers refuse tokens valid for longer than 30d"));
  std::string secret = secretFrom(a.secret, a.secretFile, "--secret-file", "IFMESH_SIGNAL_SECRET");
  if (secret.empty())
    throw UsageError("no secret: give --secret-file, --secret or IFMESH_SIGNAL_SECRET");
  std::cout << signaling::makeAuthToken(secret, a.id, std::chrono::system_clock::now() + ttl)
            << "\n";
  return 0;
}

}  // namespace

void addTokenCommand(CLI::App& app, int& exitCode) {
  auto args = std::make_shared<TokenArgs>();
  CLI::App* cmd = app.add_subcommand("token", "Print an auth token for a server with a secret");
  cmd->add_option("--id", args->id, "The agent id the token is for")->required();
  cmd->add_option("--ttl", args->ttl, "How long the token is valid (90s, 15m, 1h, 7d; at most 30d)")
      ->capture_default_str();
  cmd->add_option("--secret", args->secret,
                  "The server's shared secret (visible in ps: prefer --secret-file or "
                  "IFMESH_SIGNAL_SECRET)");
  cmd->add_option("--secret-file", args->secretFile,
                  "Read the shared secret from this file's first line");
  cmd->footer(
      "Example:\n  ifmesh token --secret-file secret.txt --id alice --ttl 1h > alice.token\n"
      "  ifmesh agent --id alice --token-file alice.token --signal ws://127.0.0.1:8443");
  cmd->callback([args, &exitCode] { exitCode = reportingErrors([&] { return runToken(*args); }); });
}

}  // namespace ifmesh::cli
