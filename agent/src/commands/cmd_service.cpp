// enroll, status and run: the agent's life with the server.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands/commands.hpp"
#include "enroll/enroll.hpp"
#include "service/service.hpp"
#include "valise/common/failure.hpp"
#include "valise/common/file_io.hpp"
#include "valise/common/rfc3339.hpp"

namespace valise::agent {
namespace {

inline constexpr const char* default_config = "/etc/valise/agent.toml";

std::string config_argument(const std::string& path) {
  return path == default_config ? "" : "--config " + path + " ";
}

// What systemd makes of an ExecCondition's exit status: 1 to 254 skip the
// unit (inactive: not enrolled yet), 255 fails it (enrolled or configured but
// broken, which `systemctl --failed` and monitoring must see).
inline constexpr int status_not_enrolled = 1;
inline constexpr int status_broken = 255;

// What `status` prints: the summary on stdout (0), or one line on stderr
// saying what to do, which the unit's ExecCondition shows in the journal.
int print_status(const std::string& path) {
  auto say = [](const std::string& line, int status = status_broken) {
    std::fprintf(stderr, "%s\n", line.c_str());
    return status;
  };
  auto config = load_config(path);
  if (!config) return say("valise-agent cannot start: " + config.error() + " (fix " + path + ")");
  const auto files = credential_files::in(config->state_dir);
  auto identity = load_identity(files.identity);
  if (!identity && identity.error() == std::errc::no_such_file_or_directory)
    return say("valise-agent is not enrolled: run sudo -u valise-agent valise-agent " +
                   config_argument(path) +
                   "enroll --token TOKEN --ca-fingerprint SHA256:... --server URL, then systemctl "
                   "start valise-agent",
               status_not_enrolled);
  if (!identity)
    return say("valise-agent cannot read " + files.identity.string() + " (" +
               identity.error().message() +
               "): run status as root or as the agent's user (sudo -u valise-agent)");
  auto pem = common::read_small_file(files.certificate);
  auto validity = pem ? certificate_validity(*pem) : std::nullopt;
  if (!validity)
    return say("valise-agent cannot read its certificate " + files.certificate.string() +
               ": enroll again with --force and a new token");
  std::string remote;
  for (const auto& name : config->remote_profiles()) remote += (remote.empty() ? "" : ", ") + name;
  const auto expiry =
      std::chrono::duration_cast<std::chrono::seconds>(validity->not_after.time_since_epoch());
  std::printf("config file:      %s\n", path.c_str());
  std::printf("server:           %s\n",
              (config->server.empty() ? identity->server : config->server).c_str());
  std::printf("agent id:         %s\n", identity->agent_id.c_str());
  std::printf("certificate until %s (renewed by the running agent)\n",
              common::format_rfc3339(expiry.count()).c_str());
  std::printf("remote profiles:  %s\n",
              remote.empty() ? "none (set remote = true on a profile to open it)" : remote.c_str());
  return 0;
}

}  // namespace

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
    // Run as root in the agent's own state directory: its files stay the agent's.
    common::check(common::give_to_directory_owner(cfg.state_dir), cfg.state_dir.string());
    std::printf("enrolled as %s with %s; credentials in %s\n", id.agent_id.c_str(),
                id.server.c_str(), cfg.state_dir.c_str());
    std::printf("next: systemctl start valise-agent\n");
  });
}

void add_status_command(CLI::App& app, config_path config, int& status) {
  auto* c = app.add_subcommand(
      "status", "Exit 0 with a summary if enrolled and configured, else 1 with what to do");
  c->callback([config, &status] { status = print_status(*config); });
}

void add_run_command(CLI::App& app, config_path config, int& status) {
  auto* c = app.add_subcommand("run", "Serve diagnostics requests (the systemd service)");
  c->callback([config, &status] { status = run_service(load_or_fail(*config)); });
}

}  // namespace valise::agent
