// The `valise` command line: offline (keygen, encrypt, decrypt, pack, open,
// inspect) and online against valise-server (ticket, link, bundle, send).
#pragma once

namespace valise::cli {

// Runs the command; returns the process exit status (0 ok, 1 failure, 2 usage).
int run(int argc, char** argv);

}  // namespace valise::cli
