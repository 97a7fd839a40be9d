// valise-server's settings: server.toml, every key with its default.
// Durations are written "90s", "15m", "12h", "30d". The
// defaults live in one table (config.cpp) that also writes the commented file
// `valise-server init` creates, so the documentation cannot drift from the code.
#pragma once

#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "valise/server/helpdesk_connector.hpp"
#include "valise/server/store/types.hpp"

namespace valise::server {

namespace calendar {
struct calendar;
}

// The longest an upload link may live, by default or as asked for.
inline constexpr std::chrono::days max_link_lifetime{90};
// The most age recipients a link (or [keys] recipients) may name.
inline constexpr std::size_t max_link_recipients = 32;

// `key` as an age X25519 recipient in its canonical (lowercase) form, if
// it is one: what server.toml, init and the API accept.
std::optional<std::string> canonical_age_recipient(std::string_view key);

// A DNS name or an IP address, nothing around it: what [server] hostname and
// `init --hostname` take.
bool valid_hostname(const std::string& name);
// Each of `keys` canonical, repeats dropped; or the first that is not a key.
boost::system::result<std::vector<std::string>, std::string> canonical_age_recipients(
    const std::vector<std::string>& keys);

// [webhooks.NAME]: a target of the outbox in the Standard Webhooks format
// (outbox/outbox_config.cpp parses it and [outbox]).
struct webhook_config {
  std::string name;
  std::string url;                  // https://
  std::string key;                  // the secret's bytes (whsec_ decoded); never logged
  std::filesystem::path ca_file;    // absolute; empty: the system's CAs
  std::vector<std::string> events;  // empty: every event
};

struct outbox_config {
  std::chrono::seconds min_backoff{1};
  std::chrono::seconds max_backoff{3600};
  std::chrono::seconds give_up_after{3 * 86400};
  unsigned max_pending_per_target = 10000;
  std::vector<webhook_config> webhooks;
};

struct server_config {
  // [server] data_dir: the database, blobs, CA and TLS files; as loaded,
  // absolute (default: the config file's directory)
  std::filesystem::path data_dir;

  // [server]
  std::string listen = "127.0.0.1:8443";
  std::string hostname = "localhost";  // in the certificate and in upload URLs
  std::string public_url;              // default: https://HOSTNAME:PORT
  unsigned threads = 2;
  // Each waiting agent holds a connection: sized for thousands of agents
  // (LimitNOFILE in the unit is above it; docs/operations.md).
  unsigned max_connections = 16384;
  unsigned max_anonymous_connections = 1000;     // not yet authenticated; oldest shed first
  unsigned max_handshakes = 256;                 // in progress; past it, wait in the backlog
  unsigned max_connections_per_address = 32;     // anonymous ones from one address (IPv6: /64)
  unsigned max_connections_per_credential = 32;  // authenticated ones of one agent or token
  std::chrono::seconds request_timeout{30};
  std::chrono::seconds handshake_timeout{10};  // TLS handshake, and heads before authentication
  std::vector<std::string> trusted_proxies;    // their connections begin with a PROXY header

  // [tls] (relative paths are under data_dir)
  std::filesystem::path certificate = "tls/server.pem";
  std::filesystem::path private_key = "tls/server.key";
  std::filesystem::path ca_certificate = "ca.pem";
  std::filesystem::path ca_key = "tls/ca.key";
  // Valise's own pair, served instead of `certificate` to clients that name
  // ca_certificate as the CA they trust (agents), when `certificate` is a
  // public CA's for browsers. Empty: everyone gets `certificate`.
  std::filesystem::path own_certificate;
  std::filesystem::path own_private_key;
  std::string min_tls_version = "1.2";
  std::chrono::seconds agent_certificate_lifetime{30 * 86400};  // of the certificates agents get

  // [uploads]
  std::uint64_t max_upload_bytes = 64ull << 30;
  std::chrono::seconds upload_expires_after{7 * 86400};
  std::uint64_t min_free_bytes = 2ull << 30;          // on the data directory's disk
  std::uint64_t technician_max_bytes = 256ull << 30;  // per technician or admin token
  std::uint64_t agent_max_bytes = 4ull << 30;         // agents that declare no cap

  // [links]
  std::chrono::seconds link_expires_in{7 * 86400};  // at most max_link_lifetime
  std::uint64_t link_max_bytes = 16ull << 30;

  // [keys] the support team's age public keys (age1..., canonical): what
  // drops through a link are encrypted to unless the link names its own
  std::vector<std::string> recipients;

  // [auth]
  unsigned auth_failure_burst = 20;  // failed authentications an address may make at once
  std::chrono::seconds auth_failure_window{60};  // ... and again per this much time

  // [console] technicians' browser sessions
  std::chrono::seconds session_idle_timeout{30 * 60};  // ended after this long unused
  std::chrono::seconds session_lifetime{12 * 3600};    // ended this long after sign-in

  // [audit]
  std::chrono::seconds refusal_interval{60};  // refusals per source folded per interval

  // [store] where the metadata lives: empty, SQLite in data_dir; or
  // "postgresql://…" (password_file: relative paths are under data_dir)
  std::string store_url;
  std::filesystem::path store_password_file;

  // [retention]
  std::chrono::seconds retention{30 * 86400};  // 0: keep until resolved
  std::chrono::seconds purge_interval{3600};

  // [log]
  std::string log_level = "info";

  // [cors] origins whose pages may upload (tus routes only), exactly as
  // browsers send Origin: "https://helpdesk.example.com"
  std::vector<std::string> cors_allowed_origins;

  // [web] the browser pages (console.html, drop.html, assets/); empty: found
  // beside the executable (web/web_root.hpp)
  std::filesystem::path web_root;

  // [calendar] the business calendar of ticket deadlines (docs/calendar.md);
  // null: calendar::default_calendar()
  std::shared_ptr<const calendar::calendar> business_calendar;
  // [helpdesk.NAME] one connector per helpdesk (docs/helpdesk/README.md);
  // their secrets and API tokens are never logged.
  std::vector<helpdesk::connector> helpdesks;
  // [outbox] and [webhooks.NAME]: deliveries to systems outside
  outbox_config outbox;

  std::filesystem::path resolve(const std::filesystem::path& p) const {
    return p.is_absolute() ? p : data_dir / p;
  }
  database_settings database() const {
    return {store_url, store_password_file.empty() ? "" : resolve(store_password_file).string()};
  }
  // public_url, or https://HOSTNAME:PORT, without a trailing slash.
  std::string public_base() const;
  std::string upload_url() const;  // public_base() + "/api/v1/uploads"
};

// A sentence for the operator, as the error of a result<T, std::string>:
// `return problem{"..."};`.
struct problem {
  std::string text;
  template <class T>
  operator boost::system::result<T, std::string>() && {
    return {boost::system::in_place_error, std::move(text)};
  }
};

// A configuration problem is a sentence for the operator ("server.toml:12:
// ..."), not a code: there is nothing for a caller to branch on.
using config_result = boost::system::result<server_config, std::string>;

// Reads `file`; its directory is the data directory unless [server] data_dir
// says otherwise (relative to it). Unknown keys are errors, so a typo does not silently keep a
// default.
config_result load_config(const std::filesystem::path& file);
// The same from the file's text; `file` names it in messages and gives the
// data directory.
config_result parse_config(std::string_view text, const std::filesystem::path& file);

// The documented server.toml for `init`, with the given values filled in.
std::string format_config(const server_config& config);

// The server.toml the package installs in /etc/valise: data in
// /var/lib/valise-server, listening on every address, hostname left empty
// for the administrator to set before `valise-server init`.
server_config packaged_defaults();

}  // namespace valise::server
