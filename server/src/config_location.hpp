// Where a `valise-server` command finds server.toml: --config FILE, or
// --data DIR (DIR/server.toml, a self-contained directory), else the
// package's /etc/valise/server.toml. Every subcommand takes the same two.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>

#include "valise/server/config.hpp"

namespace valise::server {

inline const std::filesystem::path default_config_file = "/etc/valise/server.toml";

struct config_location {
  std::filesystem::path config_file;  // --config
  std::filesystem::path data_dir;     // --data
  std::filesystem::path file() const;
  // " --config FILE" or " --data DIR" as given, for commands the output
  // suggests; empty for the default.
  std::string arguments() const;
};

// Adds --config and --data (one or neither) to `command`.
void add_location_options(CLI::App& command, config_location& where);

// The configuration, or a usage_error naming the file and what to do.
server_config load(const config_location& where);

}  // namespace valise::server
