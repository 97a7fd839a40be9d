#include "api/session_cookie.hpp"

#include <openssl/crypto.h>

#include "http/message.hpp"
#include "valise/common/ascii.hpp"

namespace valise::server {

std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto end = header.find(';');
    auto pair = trim_ows(header.substr(0, end));
    header = end == std::string_view::npos ? std::string_view{} : header.substr(end + 1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || trim_ows(pair.substr(0, eq)) != name) continue;
    auto value = trim_ows(pair.substr(eq + 1));
    // RFC 6265 allows the value in double quotes.
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    return value;
  }
  return std::nullopt;
}

std::optional<std::string_view> session_cookie(const request_head& head) {
  auto [first, last] = head.equal_range(http::field::cookie);
  for (auto it = first; it != last; ++it)
    if (auto v = cookie_value(it->value(), session_cookie_name)) return v;
  return std::nullopt;
}

std::string session_set_cookie(std::string_view session_id) {
  return std::string(session_cookie_name) + "=" + std::string(session_id) +
         "; Path=/; Secure; HttpOnly; SameSite=Strict";
}

std::string session_clear_cookie() {
  return std::string(session_cookie_name) +
         "=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict";
}

bool safe_method(http::verb method) {
  return method == http::verb::get || method == http::verb::head || method == http::verb::options;
}

std::string origin_of(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  const std::string scheme = common::ascii_lower(url.substr(0, scheme_end));
  auto rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  std::string authority = common::ascii_lower(
      rest.substr(rest.find('@') == std::string_view::npos ? 0 : rest.find('@') + 1));
  const auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    const auto port = authority.substr(colon + 1);
    if ((scheme == "https" && port == "443") || (scheme == "http" && port == "80") || port.empty())
      authority.erase(colon);
  }
  return scheme + "://" + authority;
}

bool same_secret(std::string_view sent, std::string_view expected) {
  return sent.size() == expected.size() && !expected.empty() &&
         CRYPTO_memcmp(sent.data(), expected.data(), expected.size()) == 0;
}

}  // namespace valise::server
