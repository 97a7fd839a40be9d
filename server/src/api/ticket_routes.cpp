// Tickets: create, list, show, resolve (with the purge), reopen, audit trail.
#include <boost/json/array.hpp>

#include "api/api.hpp"
#include "api/api_error.hpp"
#include "api/json_views.hpp"
#include "api/request_body.hpp"

namespace valise::server {
namespace {

namespace json = boost::json;

std::string subject(const std::string& ref) {
  return "ticket \"" + ref + "\"";
}

outcome create_ticket(api_context& ctx, request& req) {
  auto parsed = parse_object(req.body);
  if (auto* res = std::get_if<response>(&parsed)) return std::move(*res);
  auto& body = std::get<json::object>(parsed);
  std::optional<response> problem;
  auto ref = string_field(body, "ref", problem);
  auto title = text_field(body, "title", {1, 500}, problem);
  auto level = string_field(body, "severity", problem);
  if (problem) return std::move(*problem);
  if (!ref || !valid_ticket_ref(*ref))
    return error_response(api_error::bad_request,
                          "ref must be 1-64 characters of A-Z a-z 0-9 . _ - (not starting with .)");
  if (!title) return error_response(api_error::bad_request, "title must be 1 to 500 characters");
  ticket t{.ref = *ref, .title = *title};
  if (level) {
    auto parsed_level = parse_severity(*level);
    if (!parsed_level)
      return error_response(api_error::bad_request,
                            "severity must be blocking, semi-blocking or non-blocking");
    t.level = *parsed_level;
  }
  t.created_at = req.now;
  auto created = ctx.db.create_ticket(*req.who, t);
  if (!created) return error_response(created.error(), subject(*ref));
  auto res = json_response(http::status::created, to_json(*created));
  res.set(http::field::location, "/api/v1/tickets/" + created->ref);
  return res;
}

outcome list_tickets(api_context& ctx, request& req) {
  ticket_filter filter;
  auto params = req.target.params();
  if (auto it = params.find("status"); it != params.end()) {
    filter.status = parse_ticket_status((*it).value);
    if (!filter.status)
      return error_response(api_error::bad_request, "status must be open or resolved");
  }
  if (auto it = params.find("severity"); it != params.end()) {
    filter.level = parse_severity((*it).value);
    if (!filter.level)
      return error_response(api_error::bad_request,
                            "severity must be blocking, semi-blocking or non-blocking");
  }
  std::optional<response> problem;
  if (auto limit = number_param(params, "limit", {1, 1000}, problem)) filter.limit = *limit;
  if (problem) return std::move(*problem);
  auto tickets = ctx.db.list_tickets(filter);
  if (!tickets) return error_response(tickets.error(), "tickets");
  json::array out;
  for (const auto& t : *tickets) out.push_back(to_json(t));
  return json_response(http::status::ok, out);
}

outcome show_ticket(api_context& ctx, request& req) {
  auto t = ctx.db.get_ticket(req.params[0]);
  if (!t) return error_response(t.error(), subject(req.params[0]), api_error::ticket_not_found);
  return json_response(http::status::ok, to_json(*t));
}

outcome resolve_ticket(api_context& ctx, request& req) {
  const auto& ref = req.params[0];
  auto report = ctx.db.resolve_ticket(*req.who, ref);
  if (!report) return error_response(report.error(), subject(ref), api_error::ticket_not_found);
  ctx.stats.purged_bundles.fetch_add(report->bundles.size(), std::memory_order_relaxed);
  auto t = ctx.db.get_ticket(ref);
  if (!t) return error_response(t.error(), subject(ref), api_error::ticket_not_found);
  auto body = to_json(*report).as_object();
  body["ticket"] = to_json(*t);
  return json_response(http::status::ok, body);
}

outcome reopen_ticket(api_context& ctx, request& req) {
  auto t = ctx.db.reopen_ticket(*req.who, req.params[0]);
  if (!t) return error_response(t.error(), subject(req.params[0]), api_error::ticket_not_found);
  return json_response(http::status::ok, to_json(*t));
}

outcome ticket_audit(api_context& ctx, request& req) {
  if (auto t = ctx.db.get_ticket(req.params[0]); !t)
    return error_response(t.error(), subject(req.params[0]), api_error::ticket_not_found);
  auto records = ctx.db.audit_trail(req.params[0]);
  if (!records) return error_response(records.error(), "audit trail");
  json::array out;
  for (const auto& r : *records) out.push_back(to_json(r));
  return json_response(http::status::ok, out);
}

}  // namespace

void add_ticket_routes(router& r, api_context& ctx) {
  using v = http::verb;
  auto bind = [&ctx](auto fn) { return with_context(ctx, fn); };
  r.add(v::post, "/api/v1/tickets", access::technician, body_kind::json, bind(create_ticket));
  r.add(v::get, "/api/v1/tickets", access::technician, body_kind::none, bind(list_tickets));
  r.add(v::get, "/api/v1/tickets/{}", access::technician, body_kind::none, bind(show_ticket));
  r.add(v::post, "/api/v1/tickets/{}/resolve", access::technician, body_kind::none,
        bind(resolve_ticket));
  r.add(v::post, "/api/v1/tickets/{}/reopen", access::technician, body_kind::none,
        bind(reopen_ticket));
  r.add(v::get, "/api/v1/tickets/{}/audit", access::technician, body_kind::none,
        bind(ticket_audit));
}

}  // namespace valise::server
