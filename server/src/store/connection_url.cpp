// The store's URLs: the one to connect with (connection_url.hpp), and the
// one to show (redacted_url, store/types.hpp).
#include "store/connection_url.hpp"

#include <cctype>

namespace valise::server {
namespace {

// What percent-encoding leaves as it is: unreserved characters (RFC 3986).
bool unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

}  // namespace

result<common::wiped_string> connection_url(const database_settings& db, std::string* why) {
  if (db.url.empty() || db.password_file.empty()) return common::wiped_string{db.url};
  auto password = common::read_secret_file(db.password_file, {.owner_only = true});
  if (!password) {
    if (why) *why = "[store] password_file: " + password.error();
    return std::make_error_code(std::errc::permission_denied);
  }
  static constexpr char hex[] = "0123456789ABCDEF";
  const char separator = db.url.find('?') == std::string::npos ? '?' : '&';
  common::wiped_string url{std::string()};
  // Its final size at once: growing would leave copies of the password behind.
  url.value.reserve(db.url.size() + 10 + 3 * password->value.size());
  url.value = db.url;
  url.value += separator;
  url.value += "password=";
  for (unsigned char c : password->value) {
    if (unreserved(c)) {
      url.value += static_cast<char>(c);
    } else {
      url.value += '%';
      url.value += hex[c >> 4];
      url.value += hex[c & 15];
    }
  }
  return url;
}

std::string redacted_url(std::string_view url) {
  std::string out(url);
  // scheme://user:PASSWORD@host…
  if (auto scheme = out.find("://"); scheme != std::string::npos) {
    const auto start = scheme + 3;
    const auto at = out.find('@', start);
    const auto end_of_authority = out.find_first_of("/?", start);
    if (at != std::string::npos && (end_of_authority == std::string::npos || at < end_of_authority))
      if (auto colon = out.find(':', start); colon != std::string::npos && colon < at)
        out.replace(colon + 1, at - colon - 1, "***");
  }
  // …?password=PASSWORD&…
  for (std::size_t from = 0;;) {
    auto p = out.find("password=", from);
    if (p == std::string::npos) break;
    if (p > 0 && out[p - 1] != '?' && out[p - 1] != '&') {
      from = p + 1;
      continue;
    }
    const auto value = p + 9;
    const auto end = out.find('&', value);
    out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
    from = value + 3;
  }
  return out;
}

}  // namespace valise::server
