#include <sys/stat.h>

#include "pki.hpp"
#include "valise/common/file_io.hpp"
#include "valise/server/server.hpp"
#include "valise/server/store.hpp"

namespace valise::server {

boost::system::result<std::string, std::string> init(const init_options& options) {
  namespace fs = std::filesystem;
  const auto& dir = options.data_dir;
  // Checked before anything is created: a typo leaves no half-made directory.
  auto recipients = canonical_age_recipients(options.recipients);
  if (!recipients)
    return problem{"--recipient " + recipients.error() +
                   " is not an age public key: give the age1... line that `age-keygen -y "
                   "KEYFILE` prints"};
  if (recipients->size() > max_link_recipients)
    return problem{"at most " + std::to_string(max_link_recipients) + " --recipient keys"};
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
    return problem{dir.string() + " is not empty: init only creates a new data directory"};
  fs::create_directories(dir / "tls", ec);
  if (ec) return problem{"cannot create " + dir.string() + ": " + ec.message()};
  // Only the server's user may read anything in here.
  ::chmod(dir.c_str(), 0700);
  ::chmod((dir / "tls").c_str(), 0700);

  server_config config;
  config.data_dir = fs::absolute(dir);
  config.listen = options.listen;
  config.hostname = options.hostname;
  config.recipients = std::move(*recipients);
  auto text = format_config(config);
  auto file = common::atomic_file::create(dir / "server.toml", {.durable = true});
  if (!file) return problem{"cannot write server.toml: " + file.error().message()};
  if (auto w = file->write({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}); !w)
    return problem{"cannot write server.toml: " + w.error().message()};
  if (auto c = file->commit(); !c)
    return problem{"cannot write server.toml: " + c.error().message()};
  ::chmod((dir / "server.toml").c_str(), 0640);

  ca_paths ca{config.resolve(config.ca_certificate), config.resolve(config.ca_key)};
  if (auto r = create_ca(ca, "valise CA " + options.hostname); !r)
    return problem{"cannot create the CA: " + r.error().message()};
  if (auto r = create_server_certificate(ca, options.hostname, config.resolve(config.certificate),
                                         config.resolve(config.private_key));
      !r)
    return problem{"cannot create the server certificate: " + r.error().message()};
  auto db = store::open_sqlite(config.data_dir, store::open_mode::tool);
  if (!db) return problem{"cannot create the database: " + db.error().message()};
  auto token = (*db)->create_token(actor::system(), role::admin, "admin");
  if (!token) return problem{"cannot create the admin token: " + token.error().message()};
  return {boost::system::in_place_value, std::move(token->secret)};
}

}  // namespace valise::server
