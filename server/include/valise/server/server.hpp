// valise-server's two jobs: `init` prepares a data directory, `run` serves it
// until SIGTERM/SIGINT. Both are what the executable calls, nothing more.
#pragma once

#include <filesystem>
#include <string>

#include "valise/server/config.hpp"

namespace valise::server {

struct init_options {
  // --data: the directory to create, server.toml written in it from the
  // values below.
  std::filesystem::path data_dir;
  // Else an existing server.toml (the package's /etc/valise/server.toml),
  // left as it is: its data_dir is filled, listen and hostname come from it.
  std::filesystem::path config_file;
  std::string listen = "127.0.0.1:8443";
  std::string hostname = "localhost";
  std::vector<std::string> recipients;  // [keys] recipients (age1...)
  std::string store_url;                // [store] url: empty, SQLite in the directory
};

struct init_result {
  std::filesystem::path data_dir;  // absolute
  std::string admin_token;
};

// Fills the data directory (0700; it may exist if empty) with a CA (ca.pem),
// a server certificate, the database and a first admin token, which it
// returns: the only time it exists outside its hash. With options.data_dir,
// also writes server.toml there. Run as root in a directory someone else
// owns (the service's user), gives them all it made.
boost::system::result<init_result, std::string> init(const init_options& options);

// Serves HTTPS until SIGTERM or SIGINT, then stops accepting and closes
// connections; bytes of interrupted uploads stay for their clients to resume.
// Tells systemd READY=1 once listening (Type=notify). Returns a sentence for
// the operator on failure.
boost::system::result<void, std::string> run(const server_config& config);

}  // namespace valise::server
