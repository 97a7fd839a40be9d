// The optional client config file, $XDG_CONFIG_HOME/valise/client.toml
// (default ~/.config/valise/client.toml), for a technician who does not want to
// repeat the connection options:
//
//   server = "https://valise.example.com:8443"
//   token = "vst_..."        # refused if the file is readable by others
//   ca = "/etc/valise/ca.pem"
#pragma once

#include <filesystem>
#include <string>

namespace valise::cli {

struct client_config {
  std::string server;
  std::string token;
  std::string ca;
};

std::filesystem::path client_config_file();

// The file's settings; empty ones if it does not exist. Fails (failure.hpp)
// on a syntax error, an unknown key, or a token in a file others may read.
client_config load_client_config();

}  // namespace valise::cli
