// enroll and run: the agent's life with the server.
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "commands/commands.hpp"
#include "enroll/enroll.hpp"
#include "service/service.hpp"
#include "valise/common/failure.hpp"

namespace valise::agent {

agent_config load_or_fail(const std::string& path) {
  auto config = load_config(path);
  if (!config) common::fail(config.error(), "fix the file (man 5 agent.toml describes every key)");
  return std::move(*config);
}

void add_enroll_command(CLI::App& app, config_path config) {
  auto o = std::make_shared<enroll_options>();
  auto* c = app.add_subcommand(
      "enroll", "Enroll with the server once: a key made here, a certificate from its CA");
  c->add_option("--server", o->server, "server URL (default: `server` in the config)");
  c->add_option("--token", o->token, "one-time enrollment token (valise enroll-token create)")
      ->required();
  c->add_option("--ca", o->ca_file, "the server's CA certificate (its ca.pem)");
  c->add_option("--ca-fingerprint", o->ca_fingerprint,
                "SHA-256 fingerprint of the server's CA, to fetch and check it");
  c->add_flag("--force", o->force, "enroll again, replacing this agent's key and certificate");
  c->callback([config, o] {
    const auto cfg = load_or_fail(*config);
    const auto id = enroll(cfg, *o);
    std::printf("enrolled as %s with %s; credentials in %s\n", id.agent_id.c_str(),
                id.server.c_str(), cfg.state_dir.c_str());
  });
}

void add_run_command(CLI::App& app, config_path config, int& status) {
  auto* c = app.add_subcommand("run", "Serve diagnostics requests (the systemd service)");
  c->callback([config, &status] { status = run_service(load_or_fail(*config)); });
}

}  // namespace valise::agent
