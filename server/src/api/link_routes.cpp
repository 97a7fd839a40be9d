// Upload links: one-ticket, upload-only, expiring tokens for clients without
// an agent.
#include <boost/json/array.hpp>

#include "api/api.hpp"
#include "api/api_error.hpp"
#include "api/json_views.hpp"
#include "api/request_body.hpp"

namespace valise::server {
namespace {

namespace json = boost::json;

constexpr auto max_link_lifetime_s =
    static_cast<std::uint64_t>(std::chrono::seconds(max_link_lifetime).count());

outcome create_link(api_context& ctx, request& req) {
  auto parsed = parse_object(req.body);
  if (auto* res = std::get_if<response>(&parsed)) return std::move(*res);
  auto& body = std::get<json::object>(parsed);
  std::optional<response> problem;
  auto expires_in = number_field(body, "expires_in_s", {1, max_link_lifetime_s}, problem);
  auto max_bytes = number_field(body, "max_bytes", {.min = 1}, problem);
  if (problem) return std::move(*problem);
  // The default is at most max_link_lifetime (load_config checks it).
  std::uint64_t lifetime =
      expires_in.value_or(static_cast<std::uint64_t>(ctx.config.link_expires_in.count()));
  std::uint64_t budget = max_bytes.value_or(ctx.config.link_max_bytes);
  if (budget == 0) return error_response(api_error::bad_request, "max_bytes must be positive");
  const auto& ref = req.params[0];
  auto link = ctx.db.create_link(*req.who, ref, req.now + static_cast<unix_time>(lifetime), budget);
  if (!link)
    return error_response(link.error(), "ticket \"" + ref + "\"", api_error::ticket_not_found);
  json::object out{
      {"id", link->info.id},
      {"token", link->secret},
      {"upload_url", ctx.config.upload_url()},
      {"expires_at", format_rfc3339(link->info.expires_at)},
      {"max_bytes", link->info.max_bytes},
      {"ticket", link->info.ticket_ref},
  };
  return json_response(http::status::created, out);
}

outcome list_links(api_context& ctx, request& req) {
  const auto& ref = req.params[0];
  if (auto t = ctx.db.get_ticket(ref); !t)
    return error_response(t.error(), "ticket \"" + ref + "\"", api_error::ticket_not_found);
  auto links = ctx.db.list_links(ref);
  if (!links) return error_response(links.error(), "links");
  json::array out;
  for (const auto& l : *links) out.push_back(to_json(l));
  return json_response(http::status::ok, out);
}

outcome revoke_link(api_context& ctx, request& req) {
  if (auto r = ctx.db.revoke_link(*req.who, req.params[0]); !r)
    return error_response(r.error(), "link " + req.params[0], api_error::link_not_found);
  return empty_response(http::status::no_content);
}

}  // namespace

void add_link_routes(router& r, api_context& ctx) {
  using v = http::verb;
  auto bind = [&ctx](auto fn) { return with_context(ctx, fn); };
  r.add(v::post, "/api/v1/tickets/{}/links", access::technician, body_kind::json,
        bind(create_link));
  r.add(v::get, "/api/v1/tickets/{}/links", access::technician, body_kind::none, bind(list_links));
  r.add(v::delete_, "/api/v1/links/{}", access::technician, body_kind::none, bind(revoke_link));
}

}  // namespace valise::server
