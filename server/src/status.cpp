#include "status.hpp"

#include <unistd.h>

#include <cstdio>

#include "cluster/leader.hpp"
#include "pki.hpp"
#include "sql/sql.hpp"
#include "store/connection_url.hpp"

namespace valise::server {
namespace {

std::string init_command(const config_location& where) {
  if (!where.data_dir.empty())
    return "valise-server init --data " + where.data_dir.string() + " --hostname NAME";
  return "sudo valise-server init" + where.arguments();
}

// Whether this node leads (docs/cluster.md): with PostgreSQL, the node whose
// connection holds the leader's lock, named by its application_name. At most
// a few seconds when the database is out of reach, and never a reason to
// fail: the unit's ExecCondition runs this before the node starts.
std::string leadership(const server_config& config) {
  if (config.store_url.empty()) return "this node (SQLite: the one node)";
  std::string why;
  // Bounded at each step: connecting, a host that stops answering, and the
  // query itself (a database that stalls must not hold the unit's start).
  auto url = connection_url(config.database(), &why,
                            "connect_timeout=3&tcp_user_timeout=3000&options=" +
                                percent_encoded("-c statement_timeout=3000") +
                                "&application_name=" + percent_encoded("valise-server status"));
  if (!url) return "unknown (" + why + ")";
  auto db = sql::connection::open(url->value, why);
  if (!db) return "unknown (cannot reach the database: " + why.substr(0, why.find('\n')) + ")";
  auto name = cluster::leader_name(*db);
  if (!name) return "unknown (" + db->error_message() + ")";
  if (!*name) return "none (no node of this database is running, or none could take the lock)";
  if (**name == cluster::node_name(config.listen)) return "this node";
  return "another node (" + **name + ")";
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
  std::printf("leader:         %s\n", leadership(*config).c_str());
  // Last: scripts take the fingerprint from the last line.
  std::printf("CA fingerprint: SHA256:%s\n", fingerprint->c_str());
  return 0;
}

}  // namespace valise::server
