// `valise-server user add|passwd|disable|enable|list`: technician accounts
// from the command line, next to a running server (the store's tool mode).
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "config_location.hpp"
#include "valise/server/store.hpp"

namespace valise::server {

// A command's failure, for run_command_line to print: the message and a
// hint saying what to do.
struct usage_error {
  std::string message;
  std::string hint;
};
[[noreturn]] void fail(std::string message, std::string hint = {});

// Adds `user` and its subcommands, each with --config/--data into `where`
// (which outlives parsing); `open` opens the store found there (failing with
// a usage_error).
void add_user_command(CLI::App& app, config_location& where,
                      std::function<std::unique_ptr<store>()> open);

}  // namespace valise::server
