// The user's terminal: whether to draw progress, and reading a passphrase or
// password without echo from /dev/tty (so it works while stdin/stdout carry
// data). Shared by valise and valise-server (`user add`).
#pragma once

#include <string_view>

#include "valise/crypto/result.hpp"
#include "valise/crypto/secret.hpp"

namespace valise::common {

bool is_terminal(int fd);

// Prompts on /dev/tty and reads one line with echo off.
result<crypto::secret_string> read_secret_from_terminal(std::string_view prompt);

}  // namespace valise::common
