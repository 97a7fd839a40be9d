// What completion needs to know of a CLI11 app, walked into plain data: one
// entry per command path, with its subcommands and the options it accepts.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace valise::completion {

enum class value_kind {
  none,       // a flag, or a value nothing can guess (a name, a number)
  file,       // completes files (and directories, to walk into)
  directory,  // completes directories only
  choices,    // one of `choices`
};

struct option_info {
  std::vector<std::string> names;  // "-c", "--config"; empty for a positional
  bool takes_value = false;
  value_kind kind = value_kind::none;
  std::vector<std::string> choices;
};

struct command_info {
  std::string path;                      // "" for the program, then "ticket", "ticket list", ...
  std::vector<std::string> subcommands;  // names and aliases
  std::vector<option_info> options;      // its own, then those inherited by fallthrough
  value_kind positional = value_kind::none;  // a path positional argument's kind
};

// How an option's value completes: CLI11's own knowledge first (an IsMember
// set, the FILE/DIR/PATH of ExistingFile & co. or of type_name()), else the
// naming convention of the three programs (--data DIR, --config FILE, ...).
option_info describe_option(const CLI::Option& option);

// Every command path of `app`, depth first, the program itself first.
std::vector<command_info> command_tree(const CLI::App& app);

}  // namespace valise::completion
