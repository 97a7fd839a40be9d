#include "web/static_site.hpp"

#include <array>
#include <boost/url/pct_string_view.hpp>
#include <utility>
#include <vector>

namespace valise::server::web {
namespace {

// The path's segments, empty ones dropped, as the router sees them.
std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

constexpr std::array<std::pair<std::string_view, std::string_view>, 11> types{{
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".wasm", "application/wasm"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
    {".woff2", "font/woff2"},
    {".ico", "image/x-icon"},
}};

}  // namespace

bool valid_asset_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '.') return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-'))
      return false;
  return true;
}

target resolve(std::string_view path) {
  const auto parts = segments(path);
  if (parts.empty()) return {target::kind::redirect, {}, "/console"};
  // The console routes in the browser (/console/tickets/T-1): every one is
  // the same page, which reads location itself.
  if (parts[0] == "console") return {target::kind::page, "console.html", {}};
  if (parts[0] == "drop" && parts.size() == 1) return {target::kind::page, "drop.html", {}};
  if (parts[0] == "assets" && parts.size() == 2) {
    // Decoded, so that %2e%2e is seen as ".." and %2f as a slash: both refused.
    auto encoded = boost::urls::make_pct_string_view(parts[1]);
    if (!encoded) return {};
    std::string name = encoded->decode();
    if (!valid_asset_name(name)) return {};
    return {target::kind::asset, "assets/" + name, {}};
  }
  return {};
}

std::string_view content_type(std::string_view file_name) {
  if (auto slash = file_name.rfind('/'); slash != std::string_view::npos)
    file_name.remove_prefix(slash + 1);
  for (const auto& [extension, type] : types)
    if (file_name.size() > extension.size() && file_name.ends_with(extension)) return type;
  return "application/octet-stream";
}

void add_security_headers(http::response_header<>& head) {
  head.set("X-Content-Type-Options", "nosniff");
  head.set("Referrer-Policy", "no-referrer");
}

void add_security_headers(response& res) {
  add_security_headers(res.base());
}

response file_response(const target& t, std::string body) {
  response res{http::status::ok, 11};
  res.set(http::field::content_type, content_type(t.file));
  if (t.what == target::kind::page) {
    // A page names the hashed assets of its release: never reuse an old one.
    res.set(http::field::cache_control, "no-store");
    res.set("Content-Security-Policy", content_security_policy);
    res.set(http::field::x_frame_options, "DENY");
  } else {
    // A hashed name never changes content.
    res.set(http::field::cache_control, "public, max-age=31536000, immutable");
  }
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

response not_installed(std::string_view looked_in) {
  response res{http::status::not_found, 11};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.body() = "The valise web pages are not installed on this server (looked in " +
               std::string(looked_in) +
               "): install them there, or set [web] root in server.toml.\n";
  res.prepare_payload();
  return res;
}

}  // namespace valise::server::web
