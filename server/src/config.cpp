#include "valise/server/config.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <variant>

#include "valise/common/file_io.hpp"
#include "valise/common/units.hpp"

namespace valise::server {
namespace {

using field = std::variant<std::string server_config::*, std::filesystem::path server_config::*,
                           unsigned server_config::*, std::uint64_t server_config::*,
                           std::chrono::seconds server_config::*>;

struct key_spec {
  const char* section;
  const char* key;
  field member;
  const char* doc;
};

// The one table of settings: it drives parsing and the commented file `init`
// writes, so the two cannot disagree.
const key_spec keys[] = {
    {"server", "listen", &server_config::listen, "Address and port to listen on (HOST:PORT)."},
    {"server", "hostname", &server_config::hostname,
     "Name clients use to reach the server: put in the TLS certificate and upload URLs."},
    {"server", "public_url", &server_config::public_url,
     "Base URL clients see, if a proxy sits in front (default https://HOSTNAME:PORT)."},
    {"server", "threads", &server_config::threads, "Worker threads serving connections."},
    {"server", "max_connections", &server_config::max_connections,
     "Connections served at once; more are answered 503 and closed."},
    {"server", "request_timeout", &server_config::request_timeout,
     "How long a client may stay silent while sending a request."},
    {"tls", "certificate", &server_config::certificate,
     "Server certificate chain (PEM). Relative paths are under the data directory."},
    {"tls", "private_key", &server_config::private_key, "Server private key (PEM)."},
    {"tls", "ca_certificate", &server_config::ca_certificate,
     "CA certificate clients trust; signs agent certificates."},
    {"tls", "ca_key", &server_config::ca_key, "CA private key (PEM)."},
    {"tls", "min_version", &server_config::min_tls_version,
     "Lowest TLS version accepted: \"1.2\" or \"1.3\" (1.3 is always preferred)."},
    {"tls", "agent_certificate_lifetime", &server_config::agent_certificate_lifetime,
     "How long an agent's client certificate is valid (\"5m\" to \"3650d\"); agents renew "
     "theirs once less than a third of it is left."},
    {"uploads", "max_upload_bytes", &server_config::max_upload_bytes,
     "Largest upload accepted, in bytes."},
    {"uploads", "expires_after", &server_config::upload_expires_after,
     "How long an unfinished upload is kept before it is deleted."},
    {"links", "expires_in", &server_config::link_expires_in, "Default lifetime of an upload link."},
    {"links", "max_bytes", &server_config::link_max_bytes,
     "Default byte budget of an upload link."},
    {"retention", "max_age", &server_config::retention,
     "Bundles older than this are purged whatever their ticket (\"0s\": only on resolution)."},
    {"retention", "purge_interval", &server_config::purge_interval,
     "Time between retention purges (one also runs at start-up)."},
    {"log", "level", &server_config::log_level,
     "trace, debug, info, warn or error. Secrets are never logged at any level."},
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
        } else {
          auto s = node.value<std::string>();
          if (!s) return "expected a string";
          v = *s;
        }
        return {};
      },
      member);
}

std::string where(const std::filesystem::path& file, const toml::source_region& at) {
  return fmt::format("{}:{}", file.string(), at.begin.line);
}

}  // namespace

std::string server_config::upload_url() const {
  std::string base = public_url;
  if (base.empty()) {
    auto colon = listen.rfind(':');
    base = "https://" + hostname + (colon == std::string::npos ? "" : listen.substr(colon));
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/api/v1/uploads";
}

config_result load_config(const std::filesystem::path& file) {
  auto text = common::read_small_file(file);
  if (!text) return problem{fmt::format("{}: {}", file.string(), text.error().message())};
  return parse_config(*text, file);
}

config_result parse_config(std::string_view text, const std::filesystem::path& file) {
  server_config config;
  config.data_dir = std::filesystem::absolute(file).parent_path();
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
    for (auto&& [key_name, node] : *table) {
      const key_spec* spec = nullptr;
      for (const auto& k : keys)
        if (section_name.str() == k.section && key_name.str() == k.key) spec = &k;
      if (!spec)
        return problem{
            fmt::format("{}: unknown setting {}.{}: see the commented server.toml that "
                        "`valise-server init` writes",
                        where(file, node.source()), section_name.str(), key_name.str())};
      if (auto wrong = assign(config, spec->member, node); !wrong.empty())
        return problem{fmt::format("{}: {}.{}: {}", where(file, node.source()), spec->section,
                                   spec->key, wrong)};
    }
  }
  if (config.threads == 0)
    return problem{fmt::format("{}: server.threads must be at least 1", file.string())};
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
  if (config.min_tls_version != "1.2" && config.min_tls_version != "1.3")
    return problem{fmt::format("{}: tls.min_version must be \"1.2\" or \"1.3\"", file.string())};
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
  return out;
}

}  // namespace valise::server
