// Webhooks from helpdesks: POST /api/v1/hooks/{connector}, one connector per
// [helpdesk.NAME] table. Anonymous: the signature (or token) is the
// credential; refusals are folded through refusal_log like other refusals.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json/parse.hpp>

#include "api/api.hpp"
#include "api/api_error.hpp"
#include "api/json_views.hpp"
#include "helpdesk/delivery.hpp"
#include "valise/common/ascii.hpp"

namespace valise::server {
namespace {

namespace json = boost::json;

// Larger than the API's other JSON bodies: helpdesks send the whole ticket,
// its last article included.
constexpr std::uint64_t max_delivery_bytes = 1024 * 1024;
// How long the ids of connectors whose deliveries carry no timestamp are
// kept: their replays are refused this long. Only genuine deliveries are
// kept, so the table grows with the helpdesk's traffic, not an attacker's.
constexpr unix_time untimed_memory = 365 * 86400;

outcome receive(api_context& ctx, request& req) {
  const auto& name = req.params[0];
  auto refuse = [&](api_error e, const std::string& reason) {
    ctx.refused({.action = "hook.refused",
                 .source = req.from ? req.from->key : std::string(),
                 .address = req.from ? req.from->address.to_string() : std::string(),
                 .by = "anonymous",
                 .reason = reason,
                 .route = "POST /api/v1/hooks/" + name},
                req.now);
    return error_response(e, reason);
  };
  const auto& connectors = ctx.config.helpdesks;
  auto found = std::find_if(connectors.begin(), connectors.end(),
                            [&](const helpdesk::connector& c) { return c.name == name; });
  if (found == connectors.end())
    return refuse(api_error::connector_not_found, "no helpdesk connector of that name");
  const auto& c = *found;

  helpdesk::header_map headers;
  for (const auto& field : req.head) {
    headers.emplace(common::ascii_lower(field.name_string()), std::string(field.value()));
  }
  // A forged delivery is a guess at the connector's secret: it spends the
  // address's allowance of failed authentications, as a wrong token does,
  // so that an address that keeps guessing is turned away before any HMAC.
  auto& guesses = ctx.sign_in.by_address;
  const auto source = req.from ? req.from->key : std::string();
  const auto clock_now = auth_throttle::clock::now();
  if (auto wait = guesses.retry_after(source, clock_now); wait.count() > 0) {
    ctx.stats.requests_throttled.fetch_add(1, std::memory_order_relaxed);
    auto res =
        refuse(api_error::too_many_failures, "too many refused deliveries from this address");
    res.set(http::field::retry_after, std::to_string(wait.count()));
    return res;
  }
  auto checked = helpdesk::verify_delivery(headers, req.body, req.now, c);
  if (auto* no = std::get_if<helpdesk::refused>(&checked)) {
    // Only a wrong signature is a guess: a stale or unstamped delivery is
    // more likely the helpdesk's clock or a late retry, which must not get
    // the helpdesk's own address turned away.
    if (no->what == helpdesk::refused::why::bad_signature) guesses.failed(source, clock_now);
    return refuse(api_error::delivery_refused, no->reason);
  }
  const auto& delivery = std::get<helpdesk::accepted>(checked);

  boost::system::error_code ec;
  auto body = json::parse(req.body, ec);
  if (ec || !body.is_object())
    return refuse(api_error::bad_json, "the delivery's body is not a JSON object");
  auto news = helpdesk::read_ticket(body, c);
  if (!news) return refuse(api_error::bad_request, news.error());
  if (!valid_ticket_ref(news->id))
    return refuse(api_error::bad_request,
                  fmt::format("the ticket id at {} is not a valise ref: 1-64 characters of "
                              "A-Z a-z 0-9 . _ - (not starting with .)",
                              c.ticket_id_pointer));

  helpdesk_delivery d{
      .connector = c.name,
      .delivery_id = delivery.delivery_id,
      .content_id = delivery.content_id,
      .event = std::string(helpdesk::to_string(news->event)),
      .ticket_ref = news->id,
      .title = news->title,
      .level = news->level,
      .status = news->status,
      .grace_seconds = c.grace_period.count(),
      // A delivery stamped up to a window ahead passes for two windows.
      .forget_before = c.timestamp_header.empty() ? req.now - untimed_memory
                                                  : req.now - 2 * c.timestamp_window.count(),
  };
  auto applied = ctx.db.apply_helpdesk_delivery(d, req.now);
  if (!applied) {
    if (applied.error() == store_errc::already_exists)
      return refuse(api_error::delivery_replayed,
                    "this delivery was received already: a replay is not applied twice");
    if (applied.error() == store_errc::bad_state)
      return refuse(api_error::ticket_elsewhere,
                    "ticket \"" + news->id + "\" came from another helpdesk connector");
    return error_response(applied.error(), "delivery");
  }
  json::object out{
      {"connector", c.name},
      {"delivery", delivery.delivery_id},
      {"ticket", news->id},
      {"event", d.event},
      {"effect", to_string(applied->effect)},
      {"resolve_at", applied->resolve_at ? json::value(format_rfc3339(*applied->resolve_at))
                                         : json::value(nullptr)}};
  return json_response(http::status::ok, out);
}

}  // namespace

void resolve_due_helpdesk_tickets(store& db, metrics& stats, unix_time now) {
  auto due = db.due_helpdesk_resolutions(now);
  if (!due) {
    spdlog::error("helpdesk resolutions: {}", due.error().message());
    return;
  }
  for (const auto& r : *due) {
    auto report = db.resolve_scheduled(r.ticket_ref, now);
    if (!report) {
      // Reopened (so cancelled) or resolved by hand since it was read.
      if (report.error() != store_errc::not_found)
        spdlog::error("resolving ticket {} for helpdesk {}: {}", r.ticket_ref, r.connector,
                      report.error().message());
      continue;
    }
    stats.purged_bundles.fetch_add(report->bundles.size(), std::memory_order_relaxed);
    spdlog::info("ticket {} {} in {}: resolved, {} bundles purged", r.ticket_ref, r.event,
                 r.connector, report->bundles.size());
  }
}

void add_hook_routes(router& r, api_context& ctx) {
  r.add(http::verb::post, "/api/v1/hooks/{}", access::anyone, body_kind::json,
        with_context(ctx, receive), {.max_body = max_delivery_bytes});
}

}  // namespace valise::server
