#include <CLI/CLI.hpp>
#include <cstdio>

#include "valise/completion/bash.hpp"

namespace valise::completion {

// The script is made when the subcommand runs, after every other subcommand
// has been added, so it covers the whole app whatever the order of the calls.
void add_completion_command(CLI::App& app) {
  app.add_subcommand("completion", "Print the bash completion script (the package installs it)")
      ->callback([&app] { std::fputs(bash_script(app).c_str(), stdout); });
}

}  // namespace valise::completion
