// The browser pages' static files (docs/api.md, "Web pages"): which file a
// path asks for, its content type, and the headers every response and every
// page gets. Pure: no file is opened here (web_root.hpp reads them).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace valise::server::web {

// What a path of the site asks for.
struct target {
  enum class kind {
    redirect,   // `location`
    page,       // an HTML page: `file` is "console.html" or "drop.html"
    asset,      // a hashed asset: `file` is "assets/NAME"
    not_found,  // nothing of the site (also every refused asset name)
  };
  kind what = kind::not_found;
  std::string file;
  std::string location;
};

// `/` → redirect to /console; `/console`, `/console/...` → console.html;
// `/drop` → drop.html; `/assets/NAME` → assets/NAME if NAME, percent-decoded,
// is an asset name. `path` is the request's encoded path, without the query.
target resolve(std::string_view path);

// 1-128 of [A-Za-z0-9._-], not starting with '.': a file directly under
// assets/ ("..", ".hidden" and anything with a slash are not).
bool valid_asset_name(std::string_view name);

// By extension (.html .js .css .wasm .svg .png .json .map .txt .woff2);
// application/octet-stream for others, which nosniff keeps inert.
std::string_view content_type(std::string_view file_name);

// The Content-Security-Policy of the pages.
inline constexpr std::string_view content_security_policy =
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; "
    "connect-src 'self'; img-src 'self' data:; style-src 'self'; font-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

// X-Content-Type-Options and Referrer-Policy: on every response, API included.
void add_security_headers(response& res);
void add_security_headers(http::response_header<>& head);

// A page or an asset with `body`: content type, caching (pages no-store,
// hashed assets immutable for a year), and for pages the CSP and
// X-Frame-Options.
response file_response(const target& t, std::string body);

// 404 text when the web root is missing: what is not installed and where it
// was looked for.
response not_installed(std::string_view looked_in);

}  // namespace valise::server::web
