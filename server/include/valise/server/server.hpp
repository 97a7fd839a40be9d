// valise-server's two jobs: `init` prepares a data directory, `run` serves it
// until SIGTERM/SIGINT. Both are what the executable calls, nothing more.
#pragma once

#include <filesystem>
#include <string>

#include "valise/server/config.hpp"

namespace valise::server {

struct init_options {
  std::filesystem::path data_dir;
  std::string listen = "127.0.0.1:8443";
  std::string hostname = "localhost";
  std::vector<std::string> recipients;  // [keys] recipients (age1...)
};

// Creates data_dir (0700) with server.toml, a CA (ca.pem), a server
// certificate, the database and a first admin token, which it returns: the
// only time it exists outside its hash. Fails if data_dir is not empty.
boost::system::result<std::string, std::string> init(const init_options& options);

// Serves HTTPS until SIGTERM or SIGINT, then stops accepting and closes
// connections; bytes of interrupted uploads stay for their clients to resume.
// Tells systemd READY=1 once listening (Type=notify). Returns a sentence for
// the operator on failure.
boost::system::result<void, std::string> run(const server_config& config);

}  // namespace valise::server
