// The console's session cookie and the checks a cookie-authenticated request
// passes (docs/security.md): pure text code, apart from the request head.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace valise::server {

// "__Host-": browsers accept it only with Secure, Path=/ and no Domain, so a
// neighbouring host cannot plant or overwrite it.
inline constexpr std::string_view session_cookie_name = "__Host-valise_session";
inline constexpr std::string_view csrf_header = "X-Valise-CSRF";

// The value of cookie `name` in a Cookie header ("a=1; b=2"), the first if
// it is there twice; nullopt if absent.
std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name);
// The session cookie's value among all the request's Cookie headers.
std::optional<std::string_view> session_cookie(const request_head& head);

// Set-Cookie values: the session (a browser-session cookie: the server ends
// it), and the one that clears it.
std::string session_set_cookie(std::string_view session_id);
std::string session_clear_cookie();

// GET, HEAD and OPTIONS change nothing: no CSRF token needed.
bool safe_method(http::verb method);

// The origin of a URL as browsers send it in Origin: scheme and host in
// lowercase, the port unless it is the scheme's default, no path
// ("https://Example.com:443/x" -> "https://example.com").
std::string origin_of(std::string_view url);

// Compares a secret sent by the client with the expected one in constant
// time (for equal lengths).
bool same_secret(std::string_view sent, std::string_view expected);

}  // namespace valise::server
