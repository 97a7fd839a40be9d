// One function per command group; each registers its subcommand on the app.
// `config` is the --config path, read once the arguments are parsed.
#pragma once

#include <memory>
#include <string>

#include "config/agent_config.hpp"

namespace CLI {
class App;
}

namespace valise::agent {

using config_path = std::shared_ptr<std::string>;

void add_enroll_command(CLI::App& app, config_path config);
void add_run_command(CLI::App& app, config_path config, int& status);
void add_status_command(CLI::App& app, config_path config, int& status);
void add_collect_command(CLI::App& app, config_path config);
void add_job_commands(CLI::App& app, config_path config);

// Loads the config or fails with its one-line problem.
agent_config load_or_fail(const std::string& path);

}  // namespace valise::agent
