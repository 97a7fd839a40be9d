// `valise-server status`: is the server ready to run? The unit's
// ExecCondition: exit 1 and one line saying what to do leaves the unit
// inactive (not failed) on a fresh install.
#pragma once

#include <optional>
#include <string>

#include "config_location.hpp"

namespace valise::server {

// What is missing for `config`'s data directory to be one init filled
// (nullopt: nothing), as a sentence ending in what to run.
std::optional<std::string> not_initialised(const server_config& config,
                                           const config_location& where);

// Prints the summary (0) or the one line on stderr (1).
int print_status(const config_location& where);

}  // namespace valise::server
