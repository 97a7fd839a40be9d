// The `valise-server` command: init, run, status, config, token, user,
// enroll-token, ca-fingerprint, audit. main() calls this.
#pragma once

namespace valise::server {

int run_command_line(int argc, char** argv);

}  // namespace valise::server
