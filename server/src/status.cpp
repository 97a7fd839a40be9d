#include "status.hpp"

#include <unistd.h>

#include <cstdio>

#include "pki.hpp"

namespace valise::server {
namespace {

std::string init_command(const config_location& where) {
  if (!where.data_dir.empty())
    return "valise-server init --data " + where.data_dir.string() + " --hostname NAME";
  return "sudo valise-server init" + where.arguments();
}

}  // namespace

std::optional<setup_problem> not_initialised(const server_config& config,
                                             const config_location& where) {
  // With PostgreSQL ([store] url), init leaves audit.key as its mark here.
  const auto init_mark = config.data_dir / (config.store_url.empty() ? "valise.db" : "audit.key");
  std::error_code ec;
  if (!std::filesystem::exists(init_mark, ec)) {
    if (ec && ec != std::errc::no_such_file_or_directory)
      return setup_problem{"valise-server cannot read " + config.data_dir.string() + " (" +
                               ec.message() +
                               "): run this as root or as the user the server runs as",
                           true};
    return setup_problem{"valise-server is not initialised: " + config.data_dir.string() +
                         " has no database: run: " + init_command(where)};
  }
  for (const auto& file : {config.resolve(config.certificate), config.resolve(config.private_key),
                           config.resolve(config.ca_certificate)})
    if (::access(file.c_str(), R_OK) != 0)
      return setup_problem{"valise-server cannot read " + file.string() + " (" +
                               std::error_code(errno, std::generic_category()).message() +
                               "): check the [tls] paths in " + where.file().string() +
                               " and that the server's user may read them",
                           true};
  return std::nullopt;
}

int print_status(const config_location& where) {
  const auto file = where.file();
  auto say = [](const std::string& line, int status = status_not_set_up) {
    std::fprintf(stderr, "%s\n", line.c_str());
    return status;
  };
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    if (!where.data_dir.empty())
      return say("valise-server is not initialised: " + file.string() +
                 " does not exist: run: " + init_command(where));
    return say("valise-server is not initialised: " + file.string() +
               " does not exist: write it with `valise-server config --default > " + file.string() +
               "`, set [server] hostname in it and run: " + init_command(where));
  }
  auto config = load_config(file);
  if (!config)
    return say("valise-server cannot start: " + config.error() + ": fix the file", status_broken);
  if (config->hostname.empty())
    return say("valise-server is not initialised: set [server] hostname in " + file.string() +
               " and run: " + init_command(where));
  if (auto problem = not_initialised(*config, where))
    return say(problem->line, problem->broken ? status_broken : status_not_set_up);
  auto fingerprint = certificate_file_sha256(config->resolve(config->ca_certificate));
  if (!fingerprint)
    return say("valise-server cannot read its CA certificate " +
                   config->resolve(config->ca_certificate).string() + ": " +
                   fingerprint.error().message(),
               status_broken);
  std::printf("config file:    %s\n", std::filesystem::absolute(file).c_str());
  std::printf("data directory: %s\n", config->data_dir.c_str());
  std::printf("listen:         %s\n", config->listen.c_str());
  std::printf("hostname:       %s\n", config->hostname.c_str());
  std::printf("CA fingerprint: SHA256:%s\n", fingerprint->c_str());
  return 0;
}

}  // namespace valise::server
