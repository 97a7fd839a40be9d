// Service routes: health, metrics, API tokens, the whole audit trail.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/api.hpp"
#include "api/api_error.hpp"
#include "api/json_views.hpp"
#include "api/request_body.hpp"

namespace valise::server {
namespace {

namespace json = boost::json;

outcome healthz(api_context&, request&) {
  return json_response(http::status::ok, json::object{{"status", "ok"}});
}

outcome prometheus(api_context& ctx, request& req) {
  auto totals = ctx.db.count();
  if (!totals) return error_response(totals.error(), "metrics");
  auto tickets = ctx.db.count_tickets(req.now);
  if (!tickets) return error_response(tickets.error(), "metrics");
  auto deliveries = ctx.db.count_outbox();
  if (!deliveries) return error_response(deliveries.error(), "metrics");
  response res{http::status::ok, 11};
  res.set(http::field::content_type, "text/plain; version=0.0.4");
  res.body() =
      ctx.stats.render(*totals, *tickets, *deliveries,
                       {.jobs = ctx.wakeups.parked(), .events = ctx.audit_wakeups.parked()});
  res.prepare_payload();
  return res;
}

outcome create_token(api_context& ctx, request& req) {
  auto parsed = parse_object(req.body);
  if (auto* res = std::get_if<response>(&parsed)) return std::move(*res);
  auto& body = std::get<json::object>(parsed);
  std::optional<response> problem;
  auto kind = string_field(body, "role", problem);
  auto name = text_field(body, "name", {1, 64}, problem);
  if (problem) return std::move(*problem);
  auto parsed_role = kind ? parse_role(*kind) : std::nullopt;
  if (!parsed_role)
    return error_response(api_error::bad_request, "role must be admin or technician");
  if (!name) return error_response(api_error::bad_request, "name must be 1 to 64 characters");
  auto token = ctx.db.create_token(*req.who, *parsed_role, *name);
  if (!token && token.error() == store_errc::already_exists)
    return error_response(api_error::token_exists, "a token named \"" + *name + "\" exists");
  if (!token) return error_response(token.error(), "token \"" + *name + "\"");
  auto out = to_json(token->info).as_object();
  out["token"] = token->secret;
  return json_response(http::status::created, out);
}

outcome list_tokens(api_context& ctx, request&) {
  auto tokens = ctx.db.list_tokens();
  if (!tokens) return error_response(tokens.error(), "tokens");
  json::array out;
  for (const auto& t : *tokens) out.push_back(to_json(t));
  return json_response(http::status::ok, out);
}

outcome revoke_token(api_context& ctx, request& req) {
  if (auto r = ctx.db.revoke_token(*req.who, req.params[0]); !r)
    return error_response(r.error(), "token " + req.params[0], api_error::token_not_found);
  return empty_response(http::status::no_content);
}

outcome audit_all(api_context& ctx, request& req) {
  std::optional<response> problem;
  auto params = req.target.params();
  auto since = number_param(params, "since_seq", {}, problem);
  auto limit = number_param(params, "limit", {1, 10000}, problem);
  if (problem) return std::move(*problem);
  auto records = ctx.db.audit_since(static_cast<std::int64_t>(since.value_or(0)),
                                    static_cast<std::size_t>(limit.value_or(1000)));
  if (!records) return error_response(records.error(), "audit trail");
  json::array out;
  for (const auto& r : *records) out.push_back(to_json(r));
  return json_response(http::status::ok, out);
}

}  // namespace

void add_admin_routes(router& r, api_context& ctx) {
  using v = http::verb;
  auto bind = [&ctx](auto fn) { return with_context(ctx, fn); };
  r.add(v::get, "/healthz", access::anyone, body_kind::none, bind(healthz));
  r.add(v::get, "/metrics", access::technician, body_kind::none, bind(prometheus));
  r.add(v::post, "/api/v1/tokens", access::admin, body_kind::json, bind(create_token));
  r.add(v::get, "/api/v1/tokens", access::admin, body_kind::none, bind(list_tokens));
  r.add(v::delete_, "/api/v1/tokens/{}", access::admin, body_kind::none, bind(revoke_token));
  r.add(v::get, "/api/v1/audit", access::admin, body_kind::none, bind(audit_all));
}

}  // namespace valise::server
