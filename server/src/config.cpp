#include "valise/server/config.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <variant>

#include "deadlines/deadlines.hpp"
#include "helpdesk/connector_config.hpp"
#include "http/client_address.hpp"
#include "outbox/outbox_config.hpp"
#include "valise/common/ascii.hpp"
#include "valise/common/file_io.hpp"
#include "valise/common/units.hpp"
#include "valise/crypto/age.hpp"

namespace valise::server {
namespace {

using field =
    std::variant<std::string server_config::*, std::filesystem::path server_config::*,
                 unsigned server_config::*, std::uint64_t server_config::*,
                 std::chrono::seconds server_config::*, std::vector<std::string> server_config::*>;

struct key_spec {
  const char* section;
  const char* key;
  field member;
  const char* doc;
};

// The one table of settings: it drives parsing, the commented file `init`
// writes and the one the package ships (`valise-server config --default`), so
// they cannot disagree.
const key_spec keys[] = {
    {"server", "data_dir", &server_config::data_dir,
     "Directory of the database, uploads, CA and TLS files, created by `valise-server init`; "
     "a relative path is under this file's directory. Empty: this file's directory."},
    {"server", "listen", &server_config::listen, "Address and port to listen on (HOST:PORT)."},
    {"server", "hostname", &server_config::hostname,
     "Name clients use to reach the server: put in the TLS certificate and upload URLs."},
    {"server", "public_url", &server_config::public_url,
     "Base URL clients see, if a proxy sits in front (default https://HOSTNAME:PORT)."},
    {"server", "threads", &server_config::threads, "Worker threads serving connections."},
    {"server", "max_connections", &server_config::max_connections,
     "Connections served at once, each waiting agent holding one. When they are all taken, "
     "the oldest unauthenticated one is closed for a newcomer; if every one is an agent's or a "
     "technician's, newcomers are answered 503 with Retry-After. Keep it under the unit's "
     "LimitNOFILE."},
    {"server", "max_anonymous_connections", &server_config::max_anonymous_connections,
     "Connections not yet authenticated (TLS handshake, a request without a valid token or "
     "agent certificate yet); over it, the oldest of them is closed."},
    {"server", "max_handshakes", &server_config::max_handshakes,
     "TLS handshakes in progress at once (a PROXY header counts with its handshake). At it, "
     "the server accepts no more connections until one ends: newcomers wait in the kernel's "
     "listen backlog (net.core.somaxconn) instead of being accepted and cut, as a crowd of "
     "agents reconnecting after a restart would be. Handshakes silent for 2 s while it is "
     "full are closed."},
    {"server", "max_connections_per_address", &server_config::max_connections_per_address,
     "Unauthenticated connections from one client address (an IPv6 /64); over it, that "
     "address's oldest is closed. Agents and technicians are not counted once authenticated."},
    {"server", "max_connections_per_credential", &server_config::max_connections_per_credential,
     "Authenticated connections of one agent or one token; over it, that credential's oldest "
     "is closed (an agent needs three, a leaked token must not take every place)."},
    {"server", "request_timeout", &server_config::request_timeout,
     "How long a client may stay silent while sending a request."},
    {"server", "handshake_timeout", &server_config::handshake_timeout,
     "Time for the TLS handshake, and for each request head until the connection has "
     "authenticated (idle connections are cut after it)."},
    {"server", "trusted_proxies", &server_config::trusted_proxies,
     "Addresses or prefixes of load balancers (\"10.0.0.0/8\", \"::1\") whose connections "
     "begin with a PROXY protocol v1/v2 header naming the real client (HAProxy: send-proxy or "
     "send-proxy-v2). Their connections must send one; nobody else may."},
    {"tls", "certificate", &server_config::certificate,
     "Server certificate chain (PEM). Relative paths are under the data directory."},
    {"tls", "private_key", &server_config::private_key, "Server private key (PEM)."},
    {"tls", "ca_certificate", &server_config::ca_certificate,
     "CA certificate clients trust; signs agent certificates."},
    {"tls", "ca_key", &server_config::ca_key, "CA private key (PEM)."},
    {"tls", "own_certificate", &server_config::own_certificate,
     "Certificate chain (PEM) served instead of `certificate` to clients that name "
     "ca_certificate as the CA they trust (agents and the valise command, over TLS 1.3): set "
     "it to valise's own \"tls/server.pem\" when `certificate` is a public CA's, for "
     "browsers. Empty: every client gets `certificate`. Reloaded with it."},
    {"tls", "own_private_key", &server_config::own_private_key,
     "Private key (PEM) of own_certificate."},
    {"tls", "min_version", &server_config::min_tls_version,
     "Lowest TLS version accepted: \"1.2\" or \"1.3\" (1.3 is always preferred)."},
    {"tls", "agent_certificate_lifetime", &server_config::agent_certificate_lifetime,
     "How long an agent's client certificate is valid (\"5m\" to \"3650d\"); agents renew "
     "theirs once less than a third of it is left."},
    {"uploads", "max_upload_bytes", &server_config::max_upload_bytes,
     "Largest upload accepted, in bytes."},
    {"uploads", "expires_after", &server_config::upload_expires_after,
     "How long an unfinished upload is kept before it is deleted."},
    {"uploads", "min_free_bytes", &server_config::min_free_bytes,
     "Bytes kept free on the data directory's disk: under it, new uploads are refused and "
     "uploads stop (507), keeping what they verified."},
    {"uploads", "technician_max_bytes", &server_config::technician_max_bytes,
     "Bytes one technician or admin token may hold in unfinished and stored uploads (an upload "
     "without a length counts as max_upload_bytes, or this if lower); over it, 413."},
    {"uploads", "agent_max_bytes", &server_config::agent_max_bytes,
     "Largest upload of an agent that does not declare its own cap (agents declare their "
     "spool_max_bytes at each heartbeat). An agent has one upload per request: a new one "
     "replaces the unfinished one."},
    {"links", "expires_in", &server_config::link_expires_in, "Default lifetime of an upload link."},
    {"links", "max_bytes", &server_config::link_max_bytes,
     "Default byte budget of an upload link."},
    {"keys", "recipients", &server_config::recipients,
     "The support team's age public keys (age1..., as age-keygen prints them, at most 32): "
     "files clients drop through an upload link are encrypted to them, unless the link names "
     "its own keys or asks for a passphrase. `valise-server init --recipient age1...` fills "
     "it. Public keys only: the server never holds a private key."},
    {"auth", "failure_burst", &server_config::auth_failure_burst,
     "Failed authentications a client address may make at once; then it is answered 429 "
     "with Retry-After until its allowance refills."},
    {"auth", "failure_window", &server_config::auth_failure_window,
     "Time in which an address's allowance of failed authentications refills."},
    {"console", "session_idle_timeout", &server_config::session_idle_timeout,
     "A technician's browser session ends after this long without a request."},
    {"console", "session_lifetime", &server_config::session_lifetime,
     "A technician's browser session ends this long after sign-in, however busy; they sign in "
     "again."},
    {"audit", "refusal_interval", &server_config::refusal_interval,
     "Refused requests are recorded once per source and interval, then counted: one record "
     "with the count when the interval ends."},
    {"store", "url", &server_config::store_url,
     "Where tickets, uploads' records and the audit trail live. Empty: SQLite in the data "
     "directory (valise.db). \"postgresql://USER@HOST/DB\": a PostgreSQL 15 database, shared "
     "by several nodes (docs/postgresql.md); put no password here (password_file, or libpq's "
     "~/.pgpass / PGPASSFILE). Blobs, audit.key and the CA stay in the data directory."},
    {"store", "password_file", &server_config::store_password_file,
     "File whose first line is PostgreSQL's password (mode 0600); relative paths are under "
     "the data directory. Empty: none, or libpq's own password file."},
    {"retention", "max_age", &server_config::retention,
     "Bundles older than this are purged whatever their ticket (\"0s\": only on resolution)."},
    {"retention", "purge_interval", &server_config::purge_interval,
     "Time between retention purges (one also runs at start-up)."},
    {"log", "level", &server_config::log_level,
     "trace, debug, info, warn or error. Secrets are never logged at any level."},
    {"cors", "allowed_origins", &server_config::cors_allowed_origins,
     "Origins whose web pages may upload with a link (tus routes only), as browsers send "
     "them: [\"https://helpdesk.example.com\"]."},
    {"web", "root", &server_config::web_root,
     "Directory of the browser pages (console.html, drop.html, assets/); relative paths are "
     "under the data directory. Empty: the first of EXEDIR/../share/valise/web (installed) and "
     "EXEDIR/../web (the build tree) that exists, EXEDIR holding valise-server."},
};

// A TOML basic string; control characters, which it may not hold raw, escaped.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      out += fmt::format("\\u{:04x}", byte);
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// "90s", "15m", "12h", "30d": the largest unit that divides the value.
std::string duration_text(std::chrono::seconds d) {
  auto s = d.count();
  if (s != 0 && s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s != 0 && s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s != 0 && s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

// "90s", "15m", "12h", "30d" as everywhere in valise, with the unit always
// (a bare "30" would be seconds where days were likely meant), at most
// common::max_duration_seconds, and also zero ("0s"),
// which retention.max_age gives a meaning; load_config refuses it elsewhere.
std::optional<std::chrono::seconds> parse_setting_duration(std::string_view text) {
  if (text.empty() || std::string_view("smhd").find(text.back()) == std::string_view::npos)
    return std::nullopt;
  if (text.find_first_not_of('0') == text.size() - 1 && text.size() > 1)
    return std::chrono::seconds(0);
  const auto seconds = common::parse_duration(text);
  if (!seconds) return std::nullopt;
  return std::chrono::seconds(*seconds);
}

std::string value_text(const server_config& c, const field& member) {
  return std::visit(
      [&](auto m) -> std::string {
        const auto& v = c.*m;
        using value = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<value, std::string>) return quoted(v);
        if constexpr (std::is_same_v<value, std::filesystem::path>) return quoted(v.string());
        if constexpr (std::is_integral_v<value>) return std::to_string(v);
        if constexpr (std::is_same_v<value, std::vector<std::string>>) {
          std::string list;
          for (const auto& item : v) list += (list.empty() ? "" : ", ") + quoted(item);
          return "[" + list + "]";
        }
        if constexpr (std::is_same_v<value, std::chrono::seconds>) return quoted(duration_text(v));
      },
      member);
}

// Assigns `node` to the member, or says what is wrong with it.
std::string assign(server_config& c, const field& member, const toml::node& node) {
  return std::visit(
      [&](auto m) -> std::string {
        auto& v = c.*m;
        using value = std::decay_t<decltype(v)>;
        if constexpr (std::is_integral_v<value>) {
          // Integers only: toml++ casts a float out of int64's range (undefined).
          auto n = node.is_integer() ? node.value<std::int64_t>() : std::nullopt;
          if (!n || *n < 0 || static_cast<std::uint64_t>(*n) > std::numeric_limits<value>::max())
            return "expected a non-negative integer";
          v = static_cast<value>(*n);
        } else if constexpr (std::is_same_v<value, std::chrono::seconds>) {
          auto text = node.value<std::string>();
          auto d = text ? parse_setting_duration(*text) : std::nullopt;
          if (!d)
            return fmt::format(
                "expected a duration such as \"90s\", \"15m\", \"12h\" or \"30d\" (at most "
                "\"{}d\")",
                common::max_duration_seconds / 86400);
          v = *d;
        } else if constexpr (std::is_same_v<value, std::vector<std::string>>) {
          const auto* list = node.as_array();
          if (!list) return "expected a list of strings";
          v.clear();
          for (const auto& item : *list) {
            auto s = item.value<std::string>();
            if (!s) return "expected a list of strings";
            v.push_back(*s);
          }
        } else {
          auto s = node.value<std::string>();
          if (!s) return "expected a string";
          v = *s;
        }
        return {};
      },
      member);
}

// An origin as browsers serialise it (RFC 6454): scheme, lowercase host, a
// port only if not the scheme's default; anything else would never match.
bool valid_origin(std::string_view origin) {
  std::string_view rest;
  std::string_view default_port;
  if (origin.starts_with("https://")) {
    rest = origin.substr(8);
    default_port = "443";
  } else if (origin.starts_with("http://")) {
    rest = origin.substr(7);
    default_port = "80";
  } else {
    return false;
  }
  std::string_view host = rest;
  std::string_view port;
  const auto colon = rest.rfind(':');
  if (colon != std::string_view::npos && rest.find(']', colon) == std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port == default_port || port.front() == '0' ||
        port.find_first_not_of("0123456789") != std::string_view::npos ||
        std::stoul(std::string(port)) > 65535)
      return false;
  }
  if (host.empty() || host.front() == '.' || host.back() == '.') return false;
  if (host.front() == '[')
    return host.back() == ']' && host.size() > 2 &&
           host.find_first_not_of("[]0123456789abcdef:.") == std::string_view::npos;
  return host.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") == std::string_view::npos;
}

std::string where(const std::filesystem::path& file, const toml::source_region& at) {
  return fmt::format("{}:{}", file.string(), at.begin.line);
}

}  // namespace

std::string server_config::public_base() const {
  std::string base = public_url;
  if (base.empty()) {
    auto colon = listen.rfind(':');
    base = "https://" + hostname + (colon == std::string::npos ? "" : listen.substr(colon));
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

std::string server_config::upload_url() const {
  return public_base() + "/api/v1/uploads";
}

boost::system::result<std::vector<std::string>, std::string> canonical_age_recipients(
    const std::vector<std::string>& keys) {
  std::vector<std::string> out;
  for (const auto& key : keys) {
    auto canonical = canonical_age_recipient(key);
    if (!canonical) return problem{key};
    if (std::find(out.begin(), out.end(), *canonical) == out.end())
      out.push_back(std::move(*canonical));
  }
  return out;
}

std::optional<std::string> canonical_age_recipient(std::string_view key) {
  // Bech32 may be written all in capitals (age reads it so); mixed case is
  // refused by the parser.
  std::string text(key);
  if (std::none_of(text.begin(), text.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
    text = common::ascii_lower(text);
  auto parsed = crypto::x25519_recipient::parse(text);
  if (!parsed) return std::nullopt;
  return parsed->to_string();
}

// No scheme, port or path, which an operator editing the file may well write.
bool valid_hostname(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  unsigned char address[16];
  if (::inet_pton(AF_INET, name.c_str(), address) == 1 ||
      ::inet_pton(AF_INET6, name.c_str(), address) == 1)
    return true;
  std::size_t label = 0;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    const char c = i < name.size() ? name[i] : '.';
    if (c == '.') {
      if (label == 0 || label > 63 || name[i - 1] == '-' || name[i - label] == '-') return false;
      label = 0;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-') {
      ++label;
    } else {
      return false;
    }
  }
  return true;
}

config_result load_config(const std::filesystem::path& file) {
  auto text = common::read_small_file(file);
  if (!text) return problem{fmt::format("{}: {}", file.string(), text.error().message())};
  return parse_config(*text, file);
}

config_result parse_config(std::string_view text, const std::filesystem::path& file) {
  server_config config;
  config.data_dir.clear();  // set below, from data_dir and the file's directory
  toml::table root;
  try {
    root = toml::parse(text, file.string());
  } catch (const toml::parse_error& e) {
    return problem{fmt::format("{}: {}", where(file, e.source()), e.description())};
  }
  for (auto&& [section_name, section] : root) {
    auto* table = section.as_table();
    if (!table)
      return problem{fmt::format("{}: [{}] must be a table", where(file, section.source()),
                                 section_name.str())};
    if (section_name.str() == "calendar") {
      auto cal = parse_calendar_section(*table, file);
      if (!cal) return problem{std::move(cal.error())};
      config.business_calendar = std::move(*cal);
      continue;
    }
    if (section_name.str() == "helpdesk") {
      auto connectors = helpdesk::parse_connectors(
          *table, file,
          [](const std::filesystem::path& p) -> boost::system::result<std::string, std::string> {
            auto read = common::read_small_file(p, 64 * 1024);
            if (!read) return problem{read.error().message()};
            return {boost::system::in_place_value, std::move(*read)};
          });
      if (!connectors) return problem{connectors.error()};
      config.helpdesks = std::move(*connectors);
      continue;
    }
    if (section_name.str() == "outbox" || section_name.str() == "webhooks") continue;
    for (auto&& [key_name, node] : *table) {
      const key_spec* spec = nullptr;
      for (const auto& k : keys)
        if (section_name.str() == k.section && key_name.str() == k.key) spec = &k;
      if (!spec)
        return problem{
            fmt::format("{}: unknown setting {}.{}: `valise-server config --default` prints "
                        "every setting",
                        where(file, node.source()), section_name.str(), key_name.str())};
      if (auto wrong = assign(config, spec->member, node); !wrong.empty())
        return problem{fmt::format("{}: {}.{}: {}", where(file, node.source()), spec->section,
                                   spec->key, wrong)};
    }
  }
  const auto base = std::filesystem::absolute(file).parent_path();
  config.data_dir = config.data_dir.empty() ? base : (base / config.data_dir).lexically_normal();
  auto deliveries = outbox::parse_outbox_config(root, file);
  if (!deliveries) return problem{std::move(deliveries.error())};
  config.outbox = std::move(*deliveries);
  if (config.max_connections == 0 || config.max_anonymous_connections == 0 ||
      config.max_handshakes == 0 || config.max_connections_per_address == 0 ||
      config.max_connections_per_credential == 0 || config.auth_failure_burst == 0)
    return problem{
        fmt::format("{}: server.max_connections, server.max_anonymous_connections, "
                    "server.max_handshakes, server.max_connections_per_address, "
                    "server.max_connections_per_credential "
                    "and auth.failure_burst must be at least 1",
                    file.string())};
  if (!address_set::parse(config.trusted_proxies))
    return problem{
        fmt::format("{}: server.trusted_proxies: each entry is an address or a prefix such as "
                    "\"10.0.0.0/8\" or \"::1\"",
                    file.string())};
  if (config.threads == 0)
    return problem{fmt::format("{}: server.threads must be at least 1", file.string())};
  if (!config.store_url.empty() && !config.store_url.starts_with("postgresql://") &&
      !config.store_url.starts_with("postgres://"))
    return problem{
        fmt::format("{}: store.url must be empty (SQLite in the data directory) or postgresql://…",
                    file.string())};
  // Zero would time every request out, expire uploads and links as they are
  // made, or purge every second.
  for (const auto& k : keys) {
    const auto* member = std::get_if<std::chrono::seconds server_config::*>(&k.member);
    if (member && *member != &server_config::retention && (config.**member).count() == 0)
      return problem{
          fmt::format("{}: {}.{} must be more than \"0s\"", file.string(), k.section, k.key)};
  }
  if (config.agent_certificate_lifetime < std::chrono::minutes(5) ||
      config.agent_certificate_lifetime > std::chrono::days(3650))
    return problem{fmt::format("{}: tls.agent_certificate_lifetime must be \"5m\" to \"3650d\"",
                               file.string())};
  if (config.link_expires_in > max_link_lifetime)
    return problem{fmt::format("{}: links.expires_in must be at most \"{}d\"", file.string(),
                               max_link_lifetime.count())};
  for (const auto& origin : config.cors_allowed_origins)
    if (!valid_origin(origin))
      return problem{fmt::format(
          "{}: cors.allowed_origins: \"{}\" is not an origin as browsers send it: "
          "http:// or https://, a lowercase host, a port only if not the default, no path "
          "(\"https://helpdesk.example.com\")",
          file.string(), origin)};
  auto team_keys = canonical_age_recipients(config.recipients);
  if (!team_keys)
    return problem{fmt::format(
        "{}: keys.recipients: \"{}\" is not an age public key: write the age1... line that "
        "`age-keygen -y KEYFILE` prints",
        file.string(), team_keys.error())};
  config.recipients = std::move(*team_keys);
  if (config.recipients.size() > max_link_recipients)
    return problem{
        fmt::format("{}: keys.recipients: at most {} keys", file.string(), max_link_recipients)};
  if (config.own_certificate.empty() != config.own_private_key.empty())
    return problem{fmt::format("{}: tls.own_certificate and tls.own_private_key are set together",
                               file.string())};
  if (config.min_tls_version != "1.2" && config.min_tls_version != "1.3")
    return problem{fmt::format("{}: tls.min_version must be \"1.2\" or \"1.3\"", file.string())};
  if (!config.hostname.empty() && !valid_hostname(config.hostname))
    return problem{fmt::format(
        "{}: server.hostname \"{}\" is not a host name: write the name clients use, such as "
        "collector.example.com, without a scheme, port or path",
        file.string(), config.hostname)};
  return config;
}

std::string format_config(const server_config& config) {
  std::string out =
      "# valise-server configuration. Every setting is listed with its default;\n"
      "# a deleted line takes the default.\n";
  const server_config defaults;
  std::string section;
  for (const auto& k : keys) {
    if (section != k.section) {
      section = k.section;
      out += fmt::format("\n[{}]\n", section);
    }
    out += fmt::format("# {} Default: {}.\n{} = {}\n", k.doc, value_text(defaults, k.member), k.key,
                       value_text(config, k.member));
  }
  out += outbox::format_outbox_config(config.outbox);
  return out;
}

server_config packaged_defaults() {
  server_config config;
  config.data_dir = "/var/lib/valise-server";
  config.listen = "0.0.0.0:8443";
  config.hostname.clear();
  return config;
}

}  // namespace valise::server
