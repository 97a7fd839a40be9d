// Bash completion for the three programs, generated from each program's CLI11
// command line, so that the script cannot drift from what the program accepts.
// `PROGRAM completion` prints it; the build writes it to
// build/completions/PROGRAM and the package installs it for bash-completion.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace valise::completion {

// The text of a bash completion script for `app` (the program's root app):
// subcommands at each level, the options of the current subcommand and those
// it inherits (fallthrough), and for an option's value: CLI11's choice list,
// files or directories for a path, nothing otherwise. Pure: no I/O.
std::string bash_script(const CLI::App& app);

// Adds `completion` to `app`: prints bash_script(app) to standard output.
void add_completion_command(CLI::App& app);

}  // namespace valise::completion
