// Tickets: create, list, show (with the timeline), resolve (with the purge),
// reopen, pending and resume, comments, audit trail.
#include <boost/json/array.hpp>
#include <boost/json/parse_options.hpp>

#include "api/api.hpp"
#include "api/api_error.hpp"
#include "api/json_views.hpp"
#include "api/request_body.hpp"
#include "api/timeline.hpp"

namespace valise::server {
namespace {

namespace json = boost::json;

// A comment's or a resolution's text: a long note fits, a log does not
// (that is what bundles are for).
constexpr std::size_t max_note_bytes = 16 * 1024;
// Timeline events per answer; `timeline_next` asks for the following ones.
constexpr std::size_t timeline_page = 200;
constexpr std::size_t max_comments = 1000;

std::string subject(const std::string& ref) {
  return "ticket \"" + ref + "\"";
}

json::value to_json(const comment_info& c) {
  return json::object{
      {"id", c.id},
      {"ticket", c.ticket_ref},
      {"author", c.author},
      {"author_kind", c.author_kind},
      {"created_at", format_rfc3339(c.created_at)},
      {"text", c.text},
  };
}

// The note at `key` of the body (nullopt if absent), or the answer that
// refuses it. Bad UTF-8 gets through the parser so that note_field says so.
std::variant<std::optional<std::string>, response> body_note(const request& req, const char* key) {
  json::parse_options lenient;
  lenient.allow_invalid_utf8 = true;
  auto parsed = parse_object(req.body, lenient);
  if (auto* res = std::get_if<response>(&parsed)) return std::move(*res);
  std::optional<response> problem;
  auto note = note_field(std::get<json::object>(parsed), key, max_note_bytes, problem);
  if (problem) return std::move(*problem);
  return note;
}

// The ticket's events after `after` that `who` may see, at most `limit`;
// `next` is the cursor of the following page (null when there is none).
struct timeline_answer {
  json::array events;
  json::value next;
};

result<timeline_answer> timeline(api_context& ctx, const std::string& ref, role who,
                                 std::int64_t after, std::size_t limit) {
  timeline_answer out;
  for (;;) {
    auto records = ctx.db.audit_trail_after(ref, after, limit + 1);
    if (!records) return records.error();
    for (const auto& r : *records) {
      if (out.events.size() == limit) {
        out.next = after;
        return out;
      }
      after = r.seq;
      if (visible_to(r, who)) out.events.push_back(timeline_event(r));
    }
    if (records->size() <= limit) return out;
  }
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
  if (auto it = params.find("overdue"); it != params.end()) {
    if ((*it).value != "true" && (*it).value != "false")
      return error_response(api_error::bad_request, "overdue must be true or false");
    filter.overdue_only = (*it).value == "true";
    filter.now = req.now;
  }
  if (auto it = params.find("sort"); it != params.end()) {
    if ((*it).value != "due" && (*it).value != "created")
      return error_response(api_error::bad_request,
                            "sort must be due (soonest due first) or created (newest first)");
    filter.by_due_date = (*it).value == "due";
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
  const auto& ref = req.params[0];
  std::optional<response> problem;
  auto params = req.target.params();
  auto after = number_param(params, "timeline_after", {}, problem);
  auto limit = number_param(params, "timeline_limit", {1, timeline_page}, problem);
  if (problem) return std::move(*problem);
  auto t = ctx.db.get_ticket(ref);
  if (!t) return error_response(t.error(), subject(ref), api_error::ticket_not_found);
  auto events = timeline(ctx, ref, req.who->kind, static_cast<std::int64_t>(after.value_or(0)),
                         limit.value_or(timeline_page));
  if (!events) return error_response(events.error(), "timeline of " + subject(ref));
  auto body = to_json(*t).as_object();
  body["timeline"] = std::move(events->events);
  body["timeline_next"] = events->next;
  return json_response(http::status::ok, body);
}

outcome add_comment(api_context& ctx, request& req) {
  const auto& ref = req.params[0];
  auto note = body_note(req, "text");
  if (auto* res = std::get_if<response>(&note)) return std::move(*res);
  const auto& text = std::get<std::optional<std::string>>(note);
  if (!text) return error_response(api_error::bad_request, "text is missing: {\"text\": \"...\"}");
  auto c = ctx.db.add_comment(*req.who, ref, *text);
  if (!c) return error_response(c.error(), subject(ref), api_error::ticket_not_found);
  return json_response(http::status::created, to_json(*c));
}

outcome list_comments(api_context& ctx, request& req) {
  const auto& ref = req.params[0];
  if (auto t = ctx.db.get_ticket(ref); !t)
    return error_response(t.error(), subject(ref), api_error::ticket_not_found);
  auto comments = ctx.db.list_comments(ref, max_comments);
  if (!comments) return error_response(comments.error(), "comments of " + subject(ref));
  json::array out;
  for (const auto& c : *comments) out.push_back(to_json(c));
  return json_response(http::status::ok, out);
}

outcome resolve_ticket(api_context& ctx, request& req) {
  const auto& ref = req.params[0];
  auto note = body_note(req, "resolution");
  if (auto* res = std::get_if<response>(&note)) return std::move(*res);
  auto report = ctx.db.resolve_ticket(*req.who, ref, std::get<std::optional<std::string>>(note));
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

outcome set_pending(api_context& ctx, request& req) {
  auto t = ctx.db.set_pending(*req.who, req.params[0]);
  if (!t) return error_response(t.error(), subject(req.params[0]), api_error::ticket_not_found);
  return json_response(http::status::ok, to_json(*t));
}

outcome resume_ticket(api_context& ctx, request& req) {
  auto t = ctx.db.resume_ticket(*req.who, req.params[0]);
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
  r.add(v::post, "/api/v1/tickets/{}/resolve", access::technician, body_kind::json,
        bind(resolve_ticket));
  r.add(v::post, "/api/v1/tickets/{}/reopen", access::technician, body_kind::none,
        bind(reopen_ticket));
  r.add(v::post, "/api/v1/tickets/{}/pending", access::technician, body_kind::none,
        bind(set_pending));
  r.add(v::post, "/api/v1/tickets/{}/resume", access::technician, body_kind::none,
        bind(resume_ticket));
  r.add(v::post, "/api/v1/tickets/{}/comments", access::technician, body_kind::json,
        bind(add_comment));
  r.add(v::get, "/api/v1/tickets/{}/comments", access::technician, body_kind::none,
        bind(list_comments));
  r.add(v::get, "/api/v1/tickets/{}/audit", access::technician, body_kind::none,
        bind(ticket_audit));
}

}  // namespace valise::server
