#include "valise/completion/bash.hpp"

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "command_tree.hpp"

namespace valise::completion {
namespace {

// 'text' for bash, whatever it holds.
std::string quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& word : words) out += (out.empty() ? "" : " ") + word;
  return out;
}

// "valise-agent" -> "_valise_agent": a function name bash accepts.
std::string function_name(std::string_view program) {
  std::string out = "_";
  for (char c : program) {
    bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += word ? c : '_';
  }
  return out;
}

std::string compgen_flag(value_kind kind) {
  return kind == value_kind::directory ? "-d" : kind == value_kind::file ? "-f" : "";
}

// `case` arms: what each command path has.
std::string command_arms(const std::vector<command_info>& tree) {
  std::string out;
  for (const auto& command : tree) {
    std::vector<std::string> options, valued;
    for (const auto& option : command.options) {
      options.insert(options.end(), option.names.begin(), option.names.end());
      if (option.takes_value) valued.insert(valued.end(), option.names.begin(), option.names.end());
    }
    out += "    " + quote(command.path) + ")\n";
    out += "      subcommands=" + quote(join(command.subcommands)) + "\n";
    out += "      options=" + quote(join(options)) + "\n";
    out += "      valued=" + quote(join(valued)) + "\n";
    out += "      positional=" + quote(compgen_flag(command.positional)) + "\n";
    out += "      ;;\n";
  }
  return out;
}

// `case` arms: how each option's value completes, for those that can.
std::string value_arms(const std::vector<command_info>& tree, const std::string& function) {
  std::string out;
  for (const auto& command : tree) {
    for (const auto& option : command.options) {
      if (option.kind == value_kind::none) continue;
      std::string patterns;
      for (const auto& name : option.names)
        patterns += (patterns.empty() ? "" : " | ") + quote(command.path + ":" + name);
      out += "    " + patterns + ")\n      ";
      if (option.kind == value_kind::choices)
        out +=
            "mapfile -t COMPREPLY < <(compgen -W " + quote(join(option.choices)) + " -- \"$3\")\n";
      else
        out += function + "_paths " + compgen_flag(option.kind) + " \"$3\"\n";
      out += "      ;;\n";
    }
  }
  return out;
}

constexpr const char* script =
    R"(# bash completion for @PROGRAM@, generated from its command line by
# `@PROGRAM@ completion` (the package installs it); do not edit.

# Sets what command path $1 ("" for @PROGRAM@ itself) has: its subcommands,
# its options, those of them that take a value, and the compgen flag of a
# path positional argument.
@F@_command() {
  subcommands='' options='' valued='' positional=''
  case $1 in
@COMMANDS@  esac
}

# Completes the value of option $2 of command path $1; $3 is the word so far.
@F@_value() {
  COMPREPLY=()
  case "$1:$2" in
@VALUES@  esac
}

# Files (-f) or directories (-d) for the word $2.
@F@_paths() {
  compopt -o filenames 2>/dev/null
  mapfile -t COMPREPLY < <(compgen "$1" -- "$2")
}

@F@() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev='' path='' word i
  local subcommands options valued positional
  # The words before the cursor: a subcommand goes down a level, an option
  # that takes a value skips it (and the '=' bash splits off --option=value).
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    @F@_command "$path"
    if [[ $word == -* ]]; then
      if [[ " $valued " == *" $word "* ]]; then
        i=$((i + 1))
        [[ ${COMP_WORDS[i]} == = ]] && i=$((i + 1))
      fi
    elif [[ " $subcommands " == *" $word "* ]]; then
      path=${path:+$path }$word
    fi
  done
  @F@_command "$path"

  if ((COMP_CWORD >= 1)); then prev=${COMP_WORDS[COMP_CWORD - 1]}; fi
  if [[ $cur == = ]]; then
    cur=''
  elif [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
    prev=${COMP_WORDS[COMP_CWORD - 2]}
  fi
  if [[ $prev == -* && " $valued " == *" $prev "* ]]; then
    @F@_value "$path" "$prev" "$cur"
    return 0
  fi

  COMPREPLY=()
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$options" -- "$cur")
    return 0
  fi
  if [[ -n $positional ]]; then @F@_paths "$positional" "$cur"; fi
  if [[ -n $subcommands ]]; then
    mapfile -t -O ${#COMPREPLY[@]} COMPREPLY < <(compgen -W "$subcommands" -- "$cur")
  elif [[ -z $positional && -z $cur ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$options" -- "$cur")
  fi
  return 0
}

complete -F @F@ @PROGRAM@
)";

void replace_all(std::string& text, std::string_view from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

}  // namespace

std::string bash_script(const CLI::App& app) {
  auto tree = command_tree(app);
  auto function = function_name(app.get_name());
  std::string out = script;
  replace_all(out, "@COMMANDS@", command_arms(tree));
  replace_all(out, "@VALUES@", value_arms(tree, function));
  replace_all(out, "@F@", function);
  replace_all(out, "@PROGRAM@", app.get_name());
  return out;
}

}  // namespace valise::completion
