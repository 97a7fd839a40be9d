// `valise-server status`: is the server ready to run? The unit's
// ExecCondition: exit 1 and one line saying what to do leaves the unit
// inactive (not failed) on a fresh install.
#pragma once

#include <optional>
#include <string>

#include "config_location.hpp"

namespace valise::server {

// Why the server cannot run yet, as one sentence ending in what to do.
// `broken`: it was set up but something is wrong (a file it cannot read),
// as opposed to not set up yet.
struct setup_problem {
  std::string line;
  bool broken = false;
};

// What keeps `config`'s data directory from being one init filled and the
// server's user can read (nullopt: nothing).
std::optional<setup_problem> not_initialised(const server_config& config,
                                             const config_location& where);

// What systemd makes of an ExecCondition's exit status: 1 to 254 skip the
// unit (inactive: not set up yet), 255 fails it (set up but broken, which
// `systemctl --failed` and monitoring must see).
inline constexpr int status_not_set_up = 1;
inline constexpr int status_broken = 255;

// Prints the summary (0) or the one line on stderr (status_not_set_up or
// status_broken).
int print_status(const config_location& where);

}  // namespace valise::server
