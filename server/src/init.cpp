#include <sys/stat.h>

#include "pki.hpp"
#include "valise/common/file_io.hpp"
#include "valise/server/server.hpp"
#include "valise/server/store.hpp"

namespace valise::server {
namespace {

namespace fs = std::filesystem;

// The settings init works from: server.toml read (config mode), or made from
// the options and written into the new directory (--data).
boost::system::result<server_config, std::string> settings(const init_options& options) {
  if (!options.config_file.empty()) {
    std::error_code ec;
    if (!fs::exists(options.config_file, ec))
      return problem{options.config_file.string() +
                     " does not exist: write one with `valise-server config --default > " +
                     options.config_file.string() +
                     "`, set [server] hostname in it, run init again"};
    auto config = load_config(options.config_file);
    if (!config) return problem{config.error()};
    if (config->hostname.empty())
      return problem{"set [server] hostname in " + options.config_file.string() +
                     " to the name clients use, then run init again"};
    return config;
  }
  // Checked before anything is created: a typo leaves no half-made directory.
  auto recipients = canonical_age_recipients(options.recipients);
  if (!recipients)
    return problem{"--recipient " + recipients.error() +
                   " is not an age public key: give the age1... line that `age-keygen -y "
                   "KEYFILE` prints"};
  if (recipients->size() > max_link_recipients)
    return problem{"at most " + std::to_string(max_link_recipients) + " --recipient keys"};
  if (options.hostname.empty())
    return problem{"--hostname is empty: give the name clients use to reach the server"};
  if (!valid_hostname(options.hostname))
    return problem{"--hostname " + options.hostname +
                   " is not a host name: give the name clients use, such as "
                   "collector.example.com, without a scheme, port or path"};
  server_config config;
  config.data_dir = fs::absolute(options.data_dir);
  config.listen = options.listen;
  config.hostname = options.hostname;
  config.recipients = std::move(*recipients);
  config.store_url = options.store_url;
  return config;
}

boost::system::result<void, std::string> write_config(const server_config& config) {
  auto written = config;
  written.data_dir.clear();  // the file's own directory: the directory can move
  auto text = format_config(written);
  const auto path = config.data_dir / "server.toml";
  auto file = common::atomic_file::create(path, {.durable = true});
  if (!file) return problem{"cannot write server.toml: " + file.error().message()};
  if (auto w = file->write({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}); !w)
    return problem{"cannot write server.toml: " + w.error().message()};
  if (auto c = file->commit(); !c)
    return problem{"cannot write server.toml: " + c.error().message()};
  ::chmod(path.c_str(), 0640);
  return {};
}

// The CA, the server's certificate, the database and its admin token.
boost::system::result<std::string, std::string> fill(const server_config& config) {
  ca_paths ca{config.resolve(config.ca_certificate), config.resolve(config.ca_key)};
  if (auto r = create_ca(ca, "valise CA " + config.hostname); !r)
    return problem{"cannot create the CA: " + r.error().message()};
  if (auto r = create_server_certificate(ca, config.hostname, config.resolve(config.certificate),
                                         config.resolve(config.private_key));
      !r)
    return problem{"cannot create the server certificate: " + r.error().message()};
  std::string why;
  auto db = store::open(config.data_dir, config.database(), store::open_mode::tool, &why);
  if (!db) return problem{"cannot create the database: " + why};
  auto token = (*db)->create_token(actor::system(), role::admin, "admin");
  if (!token) return problem{"cannot create the admin token: " + token.error().message()};
  return {boost::system::in_place_value, std::move(token->secret)};
}

}  // namespace

boost::system::result<init_result, std::string> init(const init_options& options) {
  auto config = settings(options);
  if (!config) return problem{std::move(config.error())};
  const auto& dir = config->data_dir;
  std::error_code ec;
  // Empty is fine: systemd-tmpfiles or StateDirectory= may have made it.
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
    return problem{dir.string() + " is not empty: init only fills a new data directory"};
  fs::create_directories(dir / "tls", ec);
  if (ec) return problem{"cannot create " + dir.string() + ": " + ec.message()};
  // Only the server's user may read anything in here.
  ::chmod(dir.c_str(), 0700);
  ::chmod((dir / "tls").c_str(), 0700);

  if (options.config_file.empty())
    if (auto w = write_config(*config); !w) return problem{std::move(w.error())};
  auto token = fill(*config);
  if (!token) return problem{std::move(token.error())};
  if (auto given = common::give_to_directory_owner(dir); !given)
    return problem{"cannot give " + dir.string() + " to its owner: " + given.error().message()};
  return init_result{dir, std::move(*token)};
}

}  // namespace valise::server
