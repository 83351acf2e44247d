// `ifmesh signal`: the standalone signaling server.
#include <csignal>
#include <iostream>
#include <thread>

#include "commands.hpp"
#include "ifmesh/signaling.hpp"
#include "secret_source.hpp"

namespace ifmesh::cli {

namespace {
volatile std::sig_atomic_t stopRequested = 0;
}

void addSignalCommand(CLI::App& app, int& exitCode) {
  auto config = std::make_shared<signaling::ServerConfig>();
  CLI::App* cmd = app.add_subcommand("signal", "Run the signaling server (WebSocket)");
  cmd->add_option("--address", config->address, "Address to listen on")->default_val("127.0.0.1");
  cmd->add_option("--port", config->port, "Port (0: any free port)")->default_val(8443);
  auto secretFile = std::make_shared<std::string>();
  cmd->add_option("--secret", config->sharedSecret,
                  "Require HMAC tokens made with this secret (visible in ps: prefer "
                  "--secret-file or IFMESH_SIGNAL_SECRET)");
  cmd->add_option("--secret-file", *secretFile,
                  "Read the shared secret from this file's first line")
      ->check(CLI::ExistingFile);
  cmd->add_option("--max-frame", config->maxFrameBytes, "Largest accepted frame in bytes");
  auto* cert = cmd->add_option("--tls-cert", config->tlsCertFile,
                               "PEM certificate chain: serve wss:// only (needs --tls-key)");
  auto* key = cmd->add_option("--tls-key", config->tlsKeyFile, "PEM private key for --tls-cert");
  cert->needs(key);
  key->needs(cert);
  cmd->callback([config, secretFile, &exitCode] {
    try {
      config->sharedSecret =
          secretFrom(config->sharedSecret, *secretFile, "--secret-file", "IFMESH_SIGNAL_SECRET");
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << "\n";
      exitCode = 2;
      return;
    }
    signaling::Server server(*config);
    try {
      server.start();
    } catch (const std::exception& e) {
      std::cerr << e.what() << "\n";
      exitCode = 1;
      return;
    }
    const char* scheme = config->tlsCertFile.empty() ? "ws" : "wss";
    std::cout << "ifmesh signaling server on " << scheme << "://" << config->address << ":"
              << server.port() << std::endl;
    std::signal(SIGINT, [](int) { stopRequested = 1; });
    std::signal(SIGTERM, [](int) { stopRequested = 1; });
    while (!stopRequested) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server.stop();
  });
}

}  // namespace ifmesh::cli
