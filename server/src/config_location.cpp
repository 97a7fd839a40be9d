#include "config_location.hpp"

#include "user_command.hpp"

namespace valise::server {

std::filesystem::path config_location::file() const {
  if (!config_file.empty()) return config_file;
  if (!data_dir.empty()) return data_dir / "server.toml";
  return default_config_file;
}

std::string config_location::arguments() const {
  if (!config_file.empty()) return " --config " + config_file.string();
  if (!data_dir.empty()) return " --data " + data_dir.string();
  return {};
}

void add_location_options(CLI::App& command, config_location& where) {
  auto* config = command.add_option(
      "--config", where.config_file,
      "server.toml (default " + default_config_file.string() + "); [server] data_dir in it");
  command.add_option("--data", where.data_dir, "Data directory holding its own server.toml")
      ->excludes(config);
}

server_config load(const config_location& where) {
  auto config = load_config(where.file());
  if (!config)
    fail(config.error(), where.data_dir.empty()
                             ? "fix the file (`valise-server config --default` prints every "
                               "setting), or give --data DIR for a directory made by init --data"
                             : "create a data directory with `valise-server init --data DIR`, or "
                               "fix the file");
  return std::move(*config);
}

}  // namespace valise::server
