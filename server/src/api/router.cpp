#include "api/router.hpp"

#include <boost/url/pct_string_view.hpp>

namespace valise::server {
namespace {

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < path.size()) {
    if (path[start] == '/') {
      ++start;
      continue;
    }
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end;
  }
  return out;
}

// Matches "/a/{}/b" against a path, collecting the {} segments decoded; a
// last "{*}" matches one or more segments, collecting nothing.
std::optional<std::vector<std::string>> match_pattern(std::string_view pattern,
                                                      std::string_view path) {
  auto want = segments(pattern);
  auto have = segments(path);
  if (!want.empty() && want.back() == "{*}") {
    want.pop_back();
    if (have.size() <= want.size()) return std::nullopt;
    have.resize(want.size());
  }
  if (want.size() != have.size()) return std::nullopt;
  std::vector<std::string> params;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i] == "{}") {
      auto decoded = boost::urls::make_pct_string_view(have[i]);
      if (!decoded) return std::nullopt;
      std::string value = decoded->decode();
      if (value.empty() || value.find('/') != std::string::npos) return std::nullopt;
      params.push_back(std::move(value));
    } else if (want[i] != have[i]) {
      return std::nullopt;
    }
  }
  return params;
}

}  // namespace

void router::add(http::verb method, std::string pattern, access who, body_kind body, handler fn,
                 route_options options) {
  routes_.push_back({method, std::move(pattern), who, body, std::move(fn), options});
}

std::variant<router::match, response> router::find(http::verb method, std::string_view path) const {
  std::string allowed;
  for (const auto& r : routes_) {
    auto params = match_pattern(r.pattern, path);
    if (!params) continue;
    if (r.method == method) return match{&r, std::move(*params), method};
    if (!allowed.empty()) allowed += ", ";
    allowed += std::string(http::to_string(r.method));
  }
  if (allowed.empty())
    return refuse_(http_failure::route_not_found, "no such route: " + std::string(path));
  auto res = refuse_(http_failure::method_not_allowed,
                     std::string(http::to_string(method)) + " is not allowed here");
  res.set(http::field::allow, allowed);
  return res;
}

std::variant<router::match, response> router::find(const request_head& head,
                                                   std::string_view path) const {
  auto header = head.find("X-HTTP-Method-Override");
  if (header == head.end()) return find(head.method(), path);
  auto refuse = [&](const std::string& why) {
    return refuse_(http_failure::bad_request,
                   "X-HTTP-Method-Override " + why +
                       ": it is honoured only on a POST to a tus upload URL, for PATCH, "
                       "DELETE or HEAD");
  };
  if (head.method() != http::verb::post)
    return refuse("came with " + std::string(http::to_string(head.method())));
  auto found = find(http::string_to_verb(header->value()), path);
  auto* m = std::get_if<match>(&found);
  if (!m || !m->found->options.method_override) return refuse("is not taken by this route");
  return found;
}

bool router::cross_origin(std::string_view path) const {
  for (const auto& r : routes_)
    if (r.options.cross_origin && match_pattern(r.pattern, path)) return true;
  return false;
}

}  // namespace valise::server
