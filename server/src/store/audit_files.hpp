// The audit trail's two files beside valise.db: audit.key (the HMAC key and
// where keyed records begin; created once, mode 0600, never in the database,
// never logged) and audit.head (the newest checkpoint, replaced atomically).
#pragma once

#include <filesystem>
#include <optional>

#include "store/audit_chain.hpp"
#include "valise/crypto/result.hpp"

namespace valise::server {

std::filesystem::path audit_key_path(const std::filesystem::path& data_dir);
std::filesystem::path audit_head_path(const std::filesystem::path& data_dir);

// std::errc::no_such_file_or_directory if there is none; store_errc::corrupt
// if it is not an audit key file.
result<audit_key> read_audit_key(const std::filesystem::path& data_dir);
// A new random key, durable before it is used; std::errc::file_exists if
// another process made one first (read that one).
result<audit_key> create_audit_key(const std::filesystem::path& data_dir, std::int64_t keyed_from);

// nullopt if there is no audit.head; store_errc::corrupt if it holds no checkpoint.
result<std::optional<audit_checkpoint>> read_audit_head(const std::filesystem::path& data_dir);
result<void> write_audit_head(const std::filesystem::path& data_dir,
                              const audit_checkpoint& checkpoint);

}  // namespace valise::server
