// The browser pages on the API's listener: `/` → /console, the console's
// and the drop page's HTML, their hashed assets (web/site.hpp). No
// credential: the pages hold nothing secret and sign in (or read the link
// token) themselves.
#include "api/api.hpp"
#include "api/api_error.hpp"
#include "web/site.hpp"

namespace valise::server {

void add_web_routes(router& r, api_context& ctx) {
  const auto& root = ctx.web;
  const web::not_found_response not_found = [](std::string message) {
    return error_response(api_error::not_found, std::move(message));
  };
  for (const char* pattern : {"/", "/console", "/console/{*}", "/drop", "/assets/{}"})
    for (auto method : {http::verb::get, http::verb::head})
      r.add(method, pattern, access::anyone, body_kind::none,
            [&root, not_found](request& req) -> outcome {
              return web::serve(root, req.target.encoded_path(), not_found);
            });
}

}  // namespace valise::server
