// Diagnostics requests, the technician's side: ask an agent for a profile on
// a ticket, follow what became of it. A request names a profile and a time
// window, never a command or a path: the agent's own config decides what a
// profile collects.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/api.hpp"
#include "api/api_error.hpp"
#include "api/json_views.hpp"
#include "api/request_body.hpp"

namespace valise::server {
namespace {

namespace json = boost::json;

std::string ticket_subject(const std::string& ref) {
  return "ticket \"" + ref + "\"";
}

// since/until: absent, null or RFC 3339.
std::optional<response> read_time(const json::object& body, const char* key,
                                  std::optional<unix_time>& out) {
  std::optional<response> problem;
  auto text = string_field(body, key, problem);
  if (problem) return problem;
  if (!text) return std::nullopt;
  out = parse_rfc3339(*text);
  if (!out)
    return error_response(
        api_error::bad_request,
        std::string(key) + " must be an RFC 3339 time such as 2026-11-22T14:03:07Z");
  return std::nullopt;
}

outcome create_request(api_context& ctx, request& req) {
  auto parsed = parse_object(req.body);
  if (auto* res = std::get_if<response>(&parsed)) return std::move(*res);
  auto& body = std::get<json::object>(parsed);
  std::optional<response> problem;
  auto agent = text_field(body, "agent", {1, 64}, problem);
  auto profile = string_field(body, "profile", problem);
  if (problem) return std::move(*problem);
  if (!agent) return error_response(api_error::bad_request, "agent is required");
  if (!profile || !valid_profile_name(*profile))
    return error_response(api_error::bad_request,
                          "profile must be 1-64 letters, digits, '.', '_' or '-'");
  request_info r{.ticket_ref = req.params[0], .agent_id = *agent, .profile = *profile};
  if (auto bad = read_time(body, "since", r.since)) return std::move(*bad);
  if (auto bad = read_time(body, "until", r.until)) return std::move(*bad);
  if (r.since && r.until && *r.since > *r.until)
    return error_response(api_error::bad_request, "since must not be after until");
  auto recipients = recipients_field(body, "recipients", max_link_recipients, problem);
  if (problem) return std::move(*problem);
  if (recipients) r.recipients = std::move(*recipients);
  // Which of the two is missing, for the message (the store checks again).
  if (auto t = ctx.db.get_ticket(r.ticket_ref); !t)
    return error_response(t.error(), ticket_subject(r.ticket_ref), api_error::ticket_not_found);
  if (auto a = ctx.db.get_agent(r.agent_id); !a)
    return error_response(a.error(), "agent " + r.agent_id, api_error::agent_not_found);
  auto created = ctx.db.create_request(*req.who, r);
  if (!created) return error_response(created.error(), ticket_subject(r.ticket_ref));
  // A long-poll waiting for this agent answers now.
  ctx.wakeups.wake(created->agent_id);
  auto res = json_response(http::status::created, to_json(*created));
  res.set(http::field::location, "/api/v1/requests/" + created->id);
  return res;
}

outcome list_requests(api_context& ctx, request_filter filter) {
  auto requests = ctx.db.list_requests(filter);
  if (!requests) return error_response(requests.error(), "requests");
  json::array out;
  for (const auto& r : *requests) out.push_back(to_json(r));
  return json_response(http::status::ok, out);
}

outcome ticket_requests(api_context& ctx, request& req) {
  if (auto t = ctx.db.get_ticket(req.params[0]); !t)
    return error_response(t.error(), ticket_subject(req.params[0]), api_error::ticket_not_found);
  return list_requests(ctx, {.ticket_ref = req.params[0], .limit = 1000});
}

outcome all_requests(api_context& ctx, request& req) {
  request_filter filter;
  auto params = req.target.params();
  if (auto it = params.find("agent"); it != params.end()) filter.agent_id = (*it).value;
  if (auto it = params.find("ticket"); it != params.end()) filter.ticket_ref = (*it).value;
  if (auto it = params.find("state"); it != params.end()) {
    filter.state = parse_request_state((*it).value);
    if (!filter.state)
      return error_response(api_error::bad_request,
                            "state must be queued, awaiting_approval, collecting, uploading, "
                            "done or failed");
  }
  std::optional<response> problem;
  if (auto limit = number_param(params, "limit", {1, 1000}, problem)) filter.limit = *limit;
  if (problem) return std::move(*problem);
  return list_requests(ctx, filter);
}

outcome show_request(api_context& ctx, request& req) {
  auto r = ctx.db.get_request(req.params[0]);
  if (!r)
    return error_response(r.error(), "request " + req.params[0], api_error::request_not_found);
  return json_response(http::status::ok, to_json(*r));
}

}  // namespace

void add_request_routes(router& r, api_context& ctx) {
  using v = http::verb;
  auto bind = [&ctx](auto fn) { return with_context(ctx, fn); };
  r.add(v::post, "/api/v1/tickets/{}/requests", access::technician, body_kind::json,
        bind(create_request));
  r.add(v::get, "/api/v1/tickets/{}/requests", access::technician, body_kind::none,
        bind(ticket_requests));
  r.add(v::get, "/api/v1/requests", access::technician, body_kind::none, bind(all_requests));
  r.add(v::get, "/api/v1/requests/{}", access::technician, body_kind::none, bind(show_request));
}

}  // namespace valise::server
