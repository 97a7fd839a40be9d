// Technician accounts' credentials: the rules for user names and passwords,
// and password hashing with argon2id (libsodium's crypto_pwhash_str at its
// INTERACTIVE limits: docs/security.md has the measured cost). Pure apart
// from libsodium; the store keeps only the encoded hash.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "valise/crypto/secret.hpp"

namespace valise::server {

inline constexpr std::size_t min_password_length = 12;   // characters (UTF-8 code points)
inline constexpr std::size_t max_password_bytes = 1024;  // what a sign-in may make us hash
inline constexpr std::size_t max_user_name_length = 64;

// 1 to 64 of A-Z a-z 0-9 . _ - @ (an e-mail address fits).
bool valid_user_name(std::string_view name);

// Why a new password is refused, as a sentence for the user; nullopt if it
// is acceptable.
std::optional<std::string> password_problem(std::string_view password);

// The argon2id hash of `password` in libsodium's encoded form
// ("$argon2id$v=19$m=...,t=...,p=1$salt$hash"), or nullopt when libsodium
// could not allocate its memory.
std::optional<std::string> hash_password(const crypto::secret_string& password);

// Whether `password` matches `encoded`; false for a malformed hash.
bool verify_password(const std::string& encoded, const crypto::secret_string& password);

// Whether `encoded` was made with other limits than hash_password's (the
// caller rehashes after a successful sign-in).
bool password_needs_rehash(const std::string& encoded);

// Runs one verification against a fixed hash, so that an unknown user
// costs a sign-in the same time as a wrong password (no user enumeration
// by timing).
void verify_dummy_password(const crypto::secret_string& password);

}  // namespace valise::server
