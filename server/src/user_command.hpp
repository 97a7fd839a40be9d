// `valise-server user add|passwd|disable|enable|list`: technician accounts
// from the command line, next to a running server (the store's tool mode).
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "valise/server/store.hpp"

namespace valise::server {

// A command's failure, for run_command_line to print: the message and a
// hint saying what to do.
struct usage_error {
  std::string message;
  std::string hint;
};
[[noreturn]] void fail(std::string message, std::string hint = {});

// Adds `user` and its subcommands; `open` opens the store of a data
// directory (failing with a usage_error).
void add_user_command(CLI::App& app,
                      std::function<std::unique_ptr<store>(const std::filesystem::path&)> open);

}  // namespace valise::server
