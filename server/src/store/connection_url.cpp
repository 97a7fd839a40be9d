// The store's URLs: the one to connect with (connection_url.hpp), and the
// one to show (redacted_url, store/types.hpp).
#include "store/connection_url.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

namespace valise::server {
namespace {

// What percent-encoding leaves as it is: unreserved characters (RFC 3986).
bool unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

// Appends `text` percent-encoded, in place: `out` has its room already.
void append_encoded(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  for (unsigned char c : text) {
    if (unreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `text` with its %XX escapes decoded, as libpq decodes a URI's query keys.
std::string percent_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 &&
        hex_digit(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace

std::string percent_encoded(std::string_view text) {
  std::string out;
  out.reserve(3 * text.size());
  append_encoded(out, text);
  return out;
}

result<common::wiped_string> connection_url(const database_settings& db, std::string* why,
                                            std::string_view extra) {
  if (db.url.empty()) return common::wiped_string{};
  std::optional<common::wiped_string> password;
  if (!db.password_file.empty()) {
    auto read = common::read_secret_file(db.password_file, {.owner_only = true});
    if (!read) {
      if (why) *why = "[store] password_file: " + read.error();
      return std::make_error_code(std::errc::permission_denied);
    }
    password.emplace(std::move(*read));
  }
  common::wiped_string url;
  // Its final size at once: growing would leave copies of the password behind.
  url.value.reserve(db.url.size() + 12 + (password ? 3 * password->value.size() : 0) +
                    extra.size());
  url.value = db.url;
  auto separate = [&url] { url.value += url.value.find('?') == std::string::npos ? '?' : '&'; };
  if (password) {
    separate();
    url.value += "password=";
    append_encoded(url.value, password->value);
  }
  if (!extra.empty()) {
    separate();
    url.value += extra;
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
  // …?password=PASSWORD&…, the key percent-encoded or not (libpq decodes
  // it: pass%77ord= is password= too).
  const auto query = out.find('?');
  for (auto key = query; key != std::string::npos && key < out.size();) {
    ++key;
    auto end = std::min(out.find('&', key), out.size());
    const auto equals = out.find('=', key);
    if (equals < end &&
        percent_decoded(std::string_view(out).substr(key, equals - key)) == "password") {
      out.replace(equals + 1, end - equals - 1, "***");
      end = equals + 4;
    }
    key = end;
  }
  return out;
}

}  // namespace valise::server
