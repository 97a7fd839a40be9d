// Upload links: one-ticket, upload-only, expiring tokens for clients without
// an agent, and what a link's holder (the drop page) may learn about it.
// What a link may do is uploads/upload_policy.hpp's, what it is made with
// uploads/link_terms.hpp's.
#include <boost/json/array.hpp>

#include "api/api.hpp"
#include "api/api_error.hpp"
#include "api/json_views.hpp"
#include "api/request_body.hpp"
#include "api/upload_service.hpp"
#include "uploads/link_terms.hpp"

namespace valise::server {
namespace {

namespace json = boost::json;

// The request's fields; what they make of a link is upload_policy's
// (link_terms_for).
outcome create_link(api_context& ctx, request& req) {
  auto parsed = parse_object(req.body);
  if (auto* res = std::get_if<response>(&parsed)) return std::move(*res);
  auto& body = std::get<json::object>(parsed);
  std::optional<response> problem;
  uploads::link_request asked;
  asked.expires_in_s =
      number_field(body, "expires_in_s", {1, uploads::max_link_lifetime_s}, problem);
  asked.max_bytes = number_field(body, "max_bytes", {.min = 1}, problem);
  if (problem) return std::move(*problem);
  asked.mode = string_field(body, "mode", problem);
  asked.recipients = recipients_field(body, "recipients", max_link_recipients, problem);
  if (problem) return std::move(*problem);
  auto terms = uploads::link_terms_for(asked, ctx.config, req.now);
  if (auto* no = std::get_if<uploads::link_refusal>(&terms))
    return error_response(api_error_of(no->code), std::move(no->message));
  const auto& ref = req.params[0];
  auto link = ctx.db.create_link(*req.who, ref, std::get<link_terms>(terms));
  if (!link)
    return error_response(link.error(), "ticket \"" + ref + "\"", api_error::ticket_not_found);
  json::array keys;
  for (const auto& k : link->info.recipients) keys.emplace_back(k);
  json::object out{
      {"id", link->info.id},
      {"token", link->secret},
      {"upload_url", ctx.config.upload_url()},
      // In the fragment, the token never reaches a request line, a Referer
      // or an access log: the page reads it from location.hash.
      {"drop_url", ctx.config.public_base() + "/drop#" + link->secret},
      {"expires_at", format_rfc3339(link->info.expires_at)},
      {"max_bytes", link->info.max_bytes},
      {"ticket", link->info.ticket_ref},
      {"mode", to_string(link->info.mode)},
      {"recipients", std::move(keys)},
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

// The link's own view, for the drop page: what the client sends to (the
// ticket, the keys' fingerprints to compare with the technician's), how much
// and until when. Nothing about other links, bundles or uploads.
outcome link_info_for_holder(api_context& ctx, request& req) {
  auto link = ctx.db.get_link(req.who->id);
  if (!link) return error_response(link.error(), "link " + req.who->id, api_error::link_not_found);
  auto t = ctx.db.get_ticket(link->ticket_ref);
  if (!t)
    return error_response(t.error(), "ticket \"" + link->ticket_ref + "\"",
                          api_error::ticket_not_found);
  json::array keys;
  for (const auto& k : link->recipients)
    keys.push_back(json::object{{"key", k}, {"fingerprint", age_key_fingerprint(k)}});
  json::object out{
      {"id", link->id},
      {"ticket",
       json::object{{"ref", t->ref}, {"title", t->title}, {"status", to_string(t->status)}}},
      {"mode", to_string(link->mode)},
      {"recipients", std::move(keys)},
      {"max_bytes", link->max_bytes},
      {"used_bytes", link->used_bytes},
      {"expires_at", format_rfc3339(link->expires_at)},
      {"upload_url", ctx.config.upload_url()},
      {"max_upload_bytes", ctx.config.max_upload_bytes},
  };
  auto res = json_response(http::status::ok, out);
  res.set(http::field::cache_control, "no-store");
  return res;
}

}  // namespace

void add_link_routes(router& r, api_context& ctx) {
  using v = http::verb;
  auto bind = [&ctx](auto fn) { return with_context(ctx, fn); };
  r.add(v::post, "/api/v1/tickets/{}/links", access::technician, body_kind::json,
        bind(create_link));
  r.add(v::get, "/api/v1/tickets/{}/links", access::technician, body_kind::none, bind(list_links));
  r.add(v::delete_, "/api/v1/links/{}", access::technician, body_kind::none, bind(revoke_link));
  // The drop page may be served from a helpdesk's origin, as tus uploads
  // may ([cors] allowed_origins); its preflight carries no token.
  const route_options browser{.cross_origin = true};
  r.add(v::get, "/api/v1/link", access::link, body_kind::none, bind(link_info_for_holder), browser);
  r.add(
      v::options, "/api/v1/link", access::anyone, body_kind::none,
      [](request&) -> outcome { return empty_response(http::status::no_content); }, browser);
}

}  // namespace valise::server
