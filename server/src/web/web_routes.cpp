// The browser pages on the API's listener: `/` → /console, the console's
// and the drop page's HTML, their hashed assets. No credential: the pages
// hold nothing secret and sign in (or read the link token) themselves.
#include "api/api.hpp"
#include "api/api_error.hpp"
#include "web/static_site.hpp"
#include "web/web_root.hpp"

namespace valise::server {
namespace {

outcome serve(const web::web_root& root, const request& req) {
  const auto t = web::resolve(req.target.encoded_path());
  switch (t.what) {
    case web::target::kind::redirect: {
      auto res = empty_response(http::status::see_other);
      res.set(http::field::location, t.location);
      res.set(http::field::cache_control, "no-store");
      return res;
    }
    case web::target::kind::not_found:
      return error_response(api_error::not_found,
                            "no such page: " + std::string(req.target.encoded_path()));
    case web::target::kind::page:
    case web::target::kind::asset:
      break;
  }
  if (!root.installed()) return web::not_installed(root.looked_in());
  auto body = root.read(t.file);
  if (!body)
    return error_response(api_error::not_found,
                          "no such file: " + std::string(req.target.encoded_path()));
  return web::file_response(t, std::move(*body));
}

}  // namespace

void add_web_routes(router& r, api_context& ctx) {
  const auto& root = ctx.web;
  for (const char* pattern : {"/", "/console", "/console/{*}", "/drop", "/assets/{}"})
    for (auto method : {http::verb::get, http::verb::head})
      r.add(method, pattern, access::anyone, body_kind::none,
            [&root](request& req) -> outcome { return serve(root, req); });
}

}  // namespace valise::server
