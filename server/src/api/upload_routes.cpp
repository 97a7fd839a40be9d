// tus at /api/v1/uploads: the routes only hand over to upload_service
// (api/upload_service.hpp: tus/ over uploads/).
#include "api/api.hpp"

namespace valise::server {

void add_upload_routes(router& r, api_context& ctx) {
  using v = http::verb;
  auto& tus = ctx.uploads;
  // Browser upload widgets on allowed origins use every tus route, a
  // preflight OPTIONS first; tus clients behind proxies that pass only GET
  // and POST send PATCH, HEAD and DELETE as POST with X-HTTP-Method-Override.
  const route_options browser{.cross_origin = true};
  const route_options proxied{.method_override = true, .cross_origin = true};
  // OPTIONS needs no token: tus clients discover the server before they
  // authenticate, and browsers send none on a preflight.
  r.add(
      v::options, "/api/v1/uploads", access::anyone, body_kind::none,
      [&tus](request&) -> outcome { return tus.options(); }, browser);
  r.add(
      v::options, "/api/v1/uploads/{}", access::anyone, body_kind::none,
      [&tus](request&) -> outcome { return tus.options(); }, browser);
  r.add(
      v::post, "/api/v1/uploads", access::uploader, body_kind::stream,
      [&tus](request& req) { return tus.create(req.head, *req.who, req.now); }, browser);
  r.add(
      v::head, "/api/v1/uploads/{}", access::uploader, body_kind::none,
      [&tus](request& req) -> outcome {
        return tus.head(req.head, *req.who, req.params[0], req.now);
      },
      proxied);
  r.add(
      v::patch, "/api/v1/uploads/{}", access::uploader, body_kind::stream,
      [&tus](request& req) { return tus.patch(req.head, *req.who, req.params[0], req.now); },
      proxied);
  r.add(
      v::delete_, "/api/v1/uploads/{}", access::uploader, body_kind::none,
      [&tus](request& req) -> outcome { return tus.terminate(req.head, *req.who, req.params[0]); },
      proxied);
}

}  // namespace valise::server
