// The PostgreSQL URL to connect with: [store] url, and password_file's
// secret added as libpq's `password` parameter, so that server.toml need not
// hold it. Held in a wiped_string: it carries the password.
#pragma once

#include <string>

#include "valise/common/secret_file.hpp"
#include "valise/crypto/result.hpp"
#include "valise/server/store/types.hpp"

namespace valise::server {

// Empty with SQLite (an empty [store] url). `why` (if given) gets the
// one-line reason of a failure.
result<common::wiped_string> connection_url(const database_settings& db, std::string* why);

}  // namespace valise::server
