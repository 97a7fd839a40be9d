// The outbox, for technicians: deliveries not made yet or failed for good
// (where, for which ticket, how many attempts, the last error, the next
// attempt), and a retry now.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/api.hpp"
#include "api/api_error.hpp"
#include "api/json_views.hpp"
#include "api/request_body.hpp"

namespace valise::server {
namespace {

namespace json = boost::json;

json::object entry_json(const outbox_entry& e) {
  json::object o{{"id", e.id},
                 {"target", e.target},
                 {"ticket", e.ticket_ref},
                 {"event", e.event},
                 {"state", to_string(e.state)},
                 {"created_at", format_rfc3339(e.created_at)},
                 {"attempts", e.attempts},
                 {"last_status", e.last_status},
                 {"last_error", e.last_error}};
  o["next_attempt_at"] = e.state == outbox_state::pending
                             ? json::value(format_rfc3339(e.next_attempt_at))
                             : json::value(nullptr);
  o["delivered_at"] =
      e.delivered_at ? json::value(format_rfc3339(*e.delivered_at)) : json::value(nullptr);
  return o;
}

outcome list_outbox(api_context& ctx, request& req) {
  std::optional<response> problem;
  auto params = req.target.params();
  auto limit = number_param(params, "limit", {1, 1000}, problem);
  auto all = number_param(params, "delivered", {0, 1}, problem);
  if (problem) return std::move(*problem);
  auto entries = ctx.db.list_outbox(all.value_or(0) == 1, limit.value_or(200));
  if (!entries) return error_response(entries.error(), "outbox");
  json::array out;
  for (const auto& e : *entries) out.push_back(entry_json(e));
  return json_response(http::status::ok, out);
}

outcome retry_outbox(api_context& ctx, request& req) {
  auto e = ctx.db.retry_outbox(*req.who, req.params[0]);
  if (!e && e.error() == store_errc::bad_state)
    return error_response(api_error::already_delivered,
                          "delivery " + req.params[0] + " was made already");
  if (!e)
    return error_response(e.error(), "delivery " + req.params[0], api_error::delivery_not_found);
  return json_response(http::status::ok, entry_json(*e));
}

}  // namespace

void add_outbox_routes(router& r, api_context& ctx) {
  using v = http::verb;
  auto bind = [&ctx](auto fn) { return with_context(ctx, fn); };
  r.add(v::get, "/api/v1/outbox", access::technician, body_kind::none, bind(list_outbox));
  r.add(v::post, "/api/v1/outbox/{}/retry", access::technician, body_kind::none,
        bind(retry_outbox));
}

}  // namespace valise::server
