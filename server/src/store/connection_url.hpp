// The PostgreSQL URL to connect with: [store] url, and password_file's
// secret added as libpq's `password` parameter, so that server.toml need not
// hold it. Held in a wiped_string: it carries the password.
#pragma once

#include <string>
#include <string_view>

#include "valise/common/secret_file.hpp"
#include "valise/crypto/result.hpp"
#include "valise/server/store/types.hpp"

namespace valise::server {

// Empty with SQLite (an empty [store] url). `extra`: more libpq parameters
// for this use, "KEY=VALUE&…" with each value percent_encoded (a node's
// application_name, a connect_timeout). `why` (if given) gets the one-line
// reason of a failure.
result<common::wiped_string> connection_url(const database_settings& db, std::string* why,
                                            std::string_view extra = {});

// `text` percent-encoded for a URL's query: RFC 3986's unreserved
// characters as they are, every other byte as %XX.
std::string percent_encoded(std::string_view text);

}  // namespace valise::server
