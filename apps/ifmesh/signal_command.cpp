// `ifmesh signal`: the standalone signaling server.
#include <boost/asio/ip/address.hpp>
#include <csignal>
#include <iostream>
#include <thread>

#include "cli_log.hpp"
#include "commands.hpp"
#include "ifmesh/signaling.hpp"
#include "secret_source.hpp"
#include "usage.hpp"

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
  auto logOptions = std::make_shared<LogOptions>();
  addLogOptions(cmd, *logOptions);
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
  cmd->footer(
      "Example:\n  ifmesh signal --port 8443 --secret-file secret.txt\n"
      "  ifmesh token --secret-file secret.txt --id alice > alice.token   # one per agent");
  cmd->callback([config, secretFile, logOptions, &exitCode] {
    exitCode = reportingErrors([&] {
      config->sharedSecret =
          secretFrom(config->sharedSecret, *secretFile, "--secret-file", "IFMESH_SIGNAL_SECRET");
      boost::system::error_code ec;
      boost::asio::ip::make_address(config->address, ec);
      if (ec)
        throw UsageError(flagError("--address", config->address, "not an IPv4 or IPv6 address"));
      CliLog log(*logOptions);
      config->onEvent = [&log](const std::string& event, const nlohmann::json& f) {
        auto text = [&](const char* key) { return f.value(key, std::string()); };
        if (event == "registered")
          log.write(LogLevel::Info, event,
                    "registered " + text("agent") + " from " + text("address") +
                        (f.value("public_key", false) ? "" : " (no public key)"),
                    f);
        else if (event == "left")
          log.write(LogLevel::Info, event, "left " + text("agent"), f);
        else if (event == "refused")
          log.write(LogLevel::Warn, event,
                    "refused " + (f.contains("agent") ? text("agent") : text("address")) + ": " +
                        text("code") + ": " + text("message"),
                    f);
        else
          log.write(LogLevel::Warn, event, event + " " + text("address") + ": " + text("reason"),
                    f);
      };
      signaling::Server server(*config);
      try {
        server.start();
      } catch (const std::exception& e) {
        throw std::runtime_error("cannot serve on " + config->address + ":" +
                                 std::to_string(config->port) + ": " + e.what());
      }
      const char* scheme = config->tlsCertFile.empty() ? "ws" : "wss";
      const std::string url =
          std::string(scheme) + "://" + config->address + ":" + std::to_string(server.port());
      log.write(LogLevel::Info, "listening", "ifmesh signaling server on " + url, {{"url", url}});
      std::signal(SIGINT, [](int) { stopRequested = 1; });
      std::signal(SIGTERM, [](int) { stopRequested = 1; });
      while (!stopRequested) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      server.stop();
      return 0;
    });
  });
}

}  // namespace ifmesh::cli
