// What the technician console needs beyond the other routes: the audit
// trail as a feed of events (a long-poll woken by each new record, holding
// no thread, as the agents' job long-poll), and the ticket's uploads in
// progress.
#include <boost/asio/this_coro.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/api.hpp"
#include "api/api_error.hpp"
#include "api/json_views.hpp"
#include "api/request_body.hpp"
#include "api/timeline.hpp"

namespace valise::server {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

constexpr unsigned max_wait_s = 60;
constexpr std::size_t max_events = 200;  // per answer; the client asks again from `last`
constexpr std::size_t scan_batch = 500;  // records read from the store at once
// Event long-polls one credential may have waiting (a console tab holds
// one); each also holds a connection, which connection_budget caps per
// credential (server.max_connections_per_credential).
constexpr std::size_t max_waits_per_credential = 8;

struct events_answer {
  response res;
  bool final = true;  // else: nothing yet, a long-poll may wait
  std::int64_t last = 0;
};

// The records after `after` that `who` may see, at most max_events; `last`
// is the seq of the last record looked at, seen or not, so that the next
// request starts after it.
events_answer events_now(api_context& ctx, role who, std::int64_t after) {
  json::array events;
  std::int64_t last = after;
  for (bool more = true; more && events.size() < max_events;) {
    auto records = ctx.db.audit_since(last, scan_batch);
    if (!records) return {error_response(records.error(), "audit trail")};
    more = records->size() == scan_batch;
    for (const auto& r : *records) {
      last = r.seq;
      if (!visible_to(r, who)) continue;
      auto event = to_json(r).as_object();
      event.erase("hash");  // the chain is for `audit verify`, not the console
      events.push_back(std::move(event));
      if (events.size() == max_events) {
        more = false;
        break;
      }
    }
  }
  const bool any = !events.empty();
  return {
      json_response(http::status::ok, json::object{{"events", std::move(events)}, {"last", last}}),
      any, last};
}

asio::awaitable<response> wait_for_events(api_context& ctx, std::string key, role who,
                                          std::int64_t after, std::chrono::seconds wait) {
  auto waiter = ctx.audit_wakeups.enlist(key, co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    waiter->rearm();  // enlisted before looking: a record added now still wakes us
    auto answer = events_now(ctx, who, after);
    const auto now = std::chrono::steady_clock::now();
    if (answer.final || now >= deadline) co_return std::move(answer.res);
    after = answer.last;  // records it may not see are not looked at again
    co_await waiter->wait(deadline - now);
  }
}

outcome events(api_context& ctx, request& req) {
  std::optional<response> problem;
  const auto params = req.target.params();
  const auto after = number_param(params, "after", {}, problem);
  const auto wait = number_param(params, "wait", {0, max_wait_s}, problem).value_or(0);
  if (problem) return std::move(*problem);
  // No `after`: a page starts from now.
  if (!after) {
    auto head = ctx.db.audit_last_seq();
    if (!head) return error_response(head.error(), "audit trail");
    return json_response(http::status::ok,
                         json::object{{"events", json::array{}}, {"last", *head}});
  }
  const auto who = req.who->kind;
  const auto start = static_cast<std::int64_t>(*after);
  if (wait == 0) return std::move(events_now(ctx, who, start).res);
  auto key = std::to_string(static_cast<int>(req.who->kind)) + ":" + req.who->id;
  if (ctx.audit_wakeups.waiting(key) >= max_waits_per_credential)
    return error_response(api_error::too_many_waits, "this credential has " +
                                                         std::to_string(max_waits_per_credential) +
                                                         " event requests waiting already");
  return deferred{[&ctx, key = std::move(key), who, start, wait] {
    return wait_for_events(ctx, key, who, start, std::chrono::seconds(wait));
  }};
}

outcome ticket_uploads(api_context& ctx, request& req) {
  const auto& ref = req.params[0];
  if (auto t = ctx.db.get_ticket(ref); !t)
    return error_response(t.error(), "ticket \"" + ref + "\"", api_error::ticket_not_found);
  auto uploads = ctx.db.receiving_uploads_of_ticket(ref, req.now);
  if (!uploads) return error_response(uploads.error(), "uploads");
  json::array out;
  for (const auto& u : *uploads)
    out.push_back(json::object{
        {"id", u.id},
        {"filename", u.filename},
        {"offset", u.offset},
        {"length", u.length ? json::value(*u.length) : json::value(nullptr)},
        {"source", u.source},
        {"created_at", format_rfc3339(u.created_at)},
        {"updated_at", format_rfc3339(u.updated_at)},
        {"expires_at", format_rfc3339(u.expires_at)},
    });
  return json_response(http::status::ok, out);
}

}  // namespace

void add_console_routes(router& r, api_context& ctx) {
  using v = http::verb;
  auto bind = [&ctx](auto fn) { return with_context(ctx, fn); };
  // Both are asked by the console on its own, not by its user.
  r.add(v::get, "/api/v1/events", access::technician, body_kind::none, bind(events),
        {.background = true});
  r.add(v::get, "/api/v1/tickets/{}/uploads", access::technician, body_kind::none,
        bind(ticket_uploads), {.background = true});
}

}  // namespace valise::server
