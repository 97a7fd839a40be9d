// The [outbox] table of server.toml (retry settings) and the [webhooks.NAME]
// tables (one Standard Webhooks target each), docs/operations.md.
#pragma once

#include <toml++/toml.h>

#include <boost/system/result.hpp>
#include <filesystem>
#include <string>

#include "valise/server/config.hpp"

namespace valise::server::outbox {

// Errors read "FILE:LINE: webhooks.NAME.KEY: what is wrong and what to
// write"; secret_file and ca_file are relative to the directory of `file`.
boost::system::result<outbox_config, std::string> parse_outbox_config(
    const toml::table& root, const std::filesystem::path& file);

// The [outbox] part of the commented server.toml (`init`, `valise-server
// config`), each key with its default. Webhooks are only named (their
// tables hold secrets): a comment says how to add one.
std::string format_outbox_config(const outbox_config& config);

}  // namespace valise::server::outbox
