#include "api/api.hpp"

#include <fmt/format.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include "api/api_error.hpp"
#include "api/session_cookie.hpp"
#include "web/static_site.hpp"

namespace valise::server {
namespace {

bool allowed(access needed, role kind) {
  switch (needed) {
    case access::anyone:
    case access::enrollment:
    case access::uploader:
      return true;
    case access::admin:
      return kind == role::admin;
    case access::technician:
    case access::session:
      return kind == role::admin || kind == role::technician;
    case access::agent:
      return kind == role::agent;
    case access::link:
      return kind == role::upload_link;
  }
  return false;
}

// The refusal of a known link token that no longer works, and its reason.
std::optional<std::pair<api_error, std::string>> dead_link_error(std::error_code ec) {
  if (ec == store_errc::link_expired)
    return std::pair{api_error::link_expired, std::string("the upload link expired")};
  if (ec == store_errc::link_revoked)
    return std::pair{api_error::link_revoked, std::string("the upload link was revoked")};
  if (ec == store_errc::ticket_resolved)
    return std::pair{api_error::ticket_resolved,
                     std::string("the upload link's ticket is resolved")};
  return std::nullopt;
}

}  // namespace

session_policy session_policy_of(const server_config& config) {
  return {.idle_timeout = config.session_idle_timeout.count(),
          .lifetime = config.session_lifetime.count()};
}

void audit_agent_refusal(store& db, const std::string& route, const std::string& reason,
                         const std::string& cert_sha256, const std::string& agent_id) {
  boost::json::object detail{{"route", route}, {"reason", reason}, {"cert_sha256", cert_sha256}};
  if (!agent_id.empty()) detail["agent"] = agent_id;
  (void)db.audit(actor::system(), "agent.refused", "", boost::json::serialize(detail));
}

void add_routes(router& r, api_context& ctx) {
  add_ticket_routes(r, ctx);
  add_link_routes(r, ctx);
  add_bundle_routes(r, ctx);
  add_upload_routes(r, ctx);
  add_admin_routes(r, ctx);
  add_enroll_routes(r, ctx);
  add_agent_routes(r, ctx);
  add_request_routes(r, ctx);
  add_job_routes(r, ctx);
  add_session_routes(r, ctx);
  add_user_routes(r, ctx);
  add_console_routes(r, ctx);
  add_outbox_routes(r, ctx);
  add_web_routes(r, ctx);
  add_hook_routes(r, ctx);
}

api::api(store& db, const server_config& config, metrics& stats, const certificate_authority& ca,
         tus::upload_locks* upload_locks)
    : uploads_(db,
               {.max_upload_bytes = config.max_upload_bytes,
                .expires_after = config.upload_expires_after,
                .technician_max_bytes = config.technician_max_bytes,
                .agent_max_bytes = config.agent_max_bytes,
                .min_free_bytes = config.min_free_bytes},
               stats, upload_locks),
      throttle_({.burst = config.auth_failure_burst, .window = config.auth_failure_window}),
      refusals_(config.refusal_interval.count()),
      sign_in_(throttle_),
      own_origin_(origin_of(config.public_base())),
      web_(web::web_root::locate(
          config.web_root.empty() ? config.web_root : config.resolve(config.web_root),
          web::web_root::executable_dir())),
      context_{db, config, stats, uploads_, ca, wakeups_, audit_wakeups_, web_, sign_in_} {
  sign_in_.refused = [this](const refusal& r, unix_time now) { audit_refusal(r, now); };
  context_.refused = [this](const refusal& r, unix_time now) { audit_refusal(r, now); };
  add_routes(router_, context_);
  // Every record wakes the console's event long-polls; each looks whether
  // it may see it.
  db.on_audit_committed([this] { audit_wakeups_.wake_all(); });
}

api::~api() {
  context_.db.on_audit_committed({});
}

void api::audit_refusal(const refusal& r, unix_time now) {
  if (auto first = refusals_.record(r, now))
    (void)context_.db.audit(actor::system(), first->action, "", first->detail);
}

void api::flush_refusals(unix_time now, bool all) {
  for (const auto& summary : refusals_.flush(now, all))
    (void)context_.db.audit(actor::system(), summary.action, "", summary.detail);
}

std::variant<actor, response> api::admit_agent(const std::string& route_text,
                                               const std::string& peer_sha256, unix_time now,
                                               const client_info& from) {
  auto refuse = [&](const std::string& reason, const std::string& agent_id) {
    audit_refusal({.action = "agent.refused",
                   .source = from.key,
                   .address = from.address.to_string(),
                   .by = agent_id.empty() ? "anonymous" : agent_id,
                   .reason = reason,
                   .route = route_text,
                   .cert_sha256 = peer_sha256,
                   .agent = agent_id},
                  now);
  };
  auto found = context_.db.authenticate_agent(peer_sha256, now);
  if (!found) {
    if (found.error() != store_errc::not_found)
      return error_response(found.error(), "agent credentials");
    refuse("unknown or expired certificate", {});
    return error_response(api_error::unauthorized,
                          "the client certificate is not an enrolled agent's, or it expired",
                          "enroll the agent again with a new enrollment token");
  }
  if (found->revoked_at) {
    refuse("agent revoked", found->id);
    return error_response(api_error::certificate_revoked, "agent " + found->id + " is revoked");
  }
  actor a;
  a.kind = role::agent;
  a.id = found->id;
  a.name = found->id;
  return a;
}

std::variant<api::admitted, response> api::admit(const request_head& head, unix_time now,
                                                 const std::string& peer_sha256,
                                                 const client_info& from) {
  auto found = authorize(head, now, peer_sha256, from);
  if (auto* res = std::get_if<response>(&found)) return std::move(*res);
  auto& a = std::get<admission>(found);
  const route& target_route = *a.found;
  admitted out;
  out.body = target_route.body;
  out.max_body = target_route.options.max_body;
  // The budget's key for a caller (an agent's certificate counts only once
  // the store knows it unrevoked).
  if (a.who) out.credential = fmt::format("{}:{}", static_cast<int>(a.who->kind), a.who->id);
  out.run = [&target_route, params = std::move(a.params), who = std::move(a.who), method = a.method,
             now, peer_sha256, from = &from](const request_head& h, std::string body) mutable {
    auto target = boost::urls::parse_origin_form(h.target());
    request req{h,       method,          std::move(params),
                *target, std::move(body), who ? &*who : nullptr,
                now,     peer_sha256,     from};
    return target_route.fn(req);
  };
  return out;
}

std::variant<api::admission, response> api::authorize(const request_head& head, unix_time now,
                                                      const std::string& peer_sha256,
                                                      const client_info& from) {
  auto target = boost::urls::parse_origin_form(head.target());
  if (!target) return error_response(api_error::bad_request, "the request target is not a path");
  auto found = router_.find(head, target->encoded_path());
  if (auto* res = std::get_if<response>(&found)) return std::move(*res);
  auto& match = std::get<router::match>(found);
  const auto method = match.method;
  admission out{match.found, std::move(match.params), std::nullopt, method};
  const access needed = match.found->who;
  if (needed == access::anyone) return out;

  const std::string route_text =
      std::string(http::to_string(method)) + " " + std::string(target->encoded_path());
  auto record = [&](const std::string& reason, const std::string& by) {
    audit_refusal({.action = "auth.refused",
                   .source = from.key,
                   .address = from.address.to_string(),
                   .by = by,
                   .reason = reason,
                   .route = route_text},
                  now);
  };
  auto refuse = [&](api_error e, const std::string& reason, const std::string& by) {
    record(reason, by);
    // A guess (no credential, or a wrong one) spends the address's allowance;
    // a valid token on the wrong route does not.
    if (e != api_error::forbidden) throttle_.failed(from.key, auth_throttle::clock::now());
    return error_response(e, reason);
  };
  auto token = bearer_token(head);
  // A session cookie stands for a technician's or admin's token on their
  // routes (never for links, agents or enrollment); when a bearer token is
  // sent too, the token is what counts.
  const auto cookie = session_cookie(head);
  const bool by_session =
      token.empty() && cookie &&
      (needed == access::technician || needed == access::admin || needed == access::session);
  // The console asks whether it is signed in: no cookie is an answer, not a
  // guess (neither audited nor throttled).
  if (needed == access::session && !by_session)
    return error_response(api_error::unauthorized, "not signed in",
                          "sign in with POST /api/v1/session");
  // An enrolled agent's certificate cannot be guessed: it is never throttled,
  // so agents behind one address with a prober are not locked out.
  const bool by_certificate = !peer_sha256.empty() && token.empty() &&
                              (needed == access::agent || needed == access::uploader);
  if (!by_certificate) {
    if (auto wait = throttle_.retry_after(from.key, auth_throttle::clock::now());
        wait.count() > 0) {
      record("too many failed authentications from this address", "anonymous");
      context_.stats.requests_throttled.fetch_add(1, std::memory_order_relaxed);
      auto res = error_response(api_error::too_many_failures,
                                "too many failed authentications from this address");
      res.set(http::field::retry_after, std::to_string(wait.count()));
      return res;
    }
  }
  if (by_session) {
    auto who = admit_session(
        head, *cookie, needed, match.found->options.background, now,
        [&](api_error e, const std::string& reason, const std::string& by, bool guessed) {
          record(reason, by);
          if (guessed) throttle_.failed(from.key, auth_throttle::clock::now());
          auto res = error_response(e, reason);
          // A dead session's cookie is cleared, so the browser stops sending
          // it: each one spends the address's allowance, which technicians
          // behind one NAT share.
          if (e == api_error::unauthorized)
            res.set(http::field::set_cookie, session_clear_cookie());
          return res;
        });
    if (auto* res = std::get_if<response>(&who)) return std::move(*res);
    out.who = std::move(std::get<actor>(who));
    return out;
  }
  if (needed == access::enrollment) {
    if (token.empty()) return refuse(api_error::unauthorized, "no enrollment token", "anonymous");
    if (auto ok = context_.db.check_enroll_token(std::string(token), now); !ok) {
      if (ok.error() != store_errc::not_found) return error_response(ok.error(), "credentials");
      return refuse(api_error::unauthorized, "the enrollment token is unknown, used or expired",
                    "anonymous");
    }
    return out;
  }
  // Agents authenticate with their certificate alone: a token on an agent
  // route is a technician's, and a technician is not an agent.
  if (needed == access::agent || (needed == access::uploader && token.empty())) {
    if (needed == access::agent && !token.empty())
      return refuse(api_error::agent_certificate_required,
                    "agent routes take the agent's client certificate, not a token", "anonymous");
    if (peer_sha256.empty()) {
      if (needed == access::uploader)
        return refuse(api_error::unauthorized, "no bearer token", "anonymous");
      return refuse(api_error::agent_certificate_required,
                    "this route needs an enrolled agent's client certificate", "anonymous");
    }
    auto agent = admit_agent(route_text, peer_sha256, now, from);
    if (auto* res = std::get_if<response>(&agent)) return std::move(*res);
    out.who = std::move(std::get<actor>(agent));
    return out;
  }
  if (token.empty()) return refuse(api_error::unauthorized, "no bearer token", "anonymous");
  auto who = context_.db.authenticate(std::string(token), now);
  if (!who) {
    // A link that worked once says why it no longer does, so that its
    // holder's page can tell the client. Its token was not guessed: the
    // address's allowance is not spent.
    if (auto dead = dead_link_error(who.error())) {
      record(dead->second, "anonymous");
      return error_response(dead->first, dead->second);
    }
    if (who.error() != store_errc::not_found) return error_response(who.error(), "credentials");
    return refuse(api_error::unauthorized, "the token is unknown, revoked or expired", "anonymous");
  }
  if (!allowed(needed, who->kind))
    return refuse(api_error::forbidden, "this token's role may not use this route", who->label());
  out.who = std::move(*who);
  return out;
}

std::variant<actor, response> api::admit_session(const request_head& head, std::string_view cookie,
                                                 access needed, bool background, unix_time now,
                                                 const refuser& refuse) {
  auto found = context_.db.authenticate_session(std::string(cookie), now,
                                                session_policy_of(context_.config), background);
  if (!found) {
    if (found.error() != store_errc::not_found) return error_response(found.error(), "session");
    return refuse(api_error::unauthorized, "the session is unknown, ended or expired", "anonymous",
                  true);
  }
  const std::string by = "user:" + found->user;
  // Besides SameSite=Strict: a page of another origin that still got the
  // cookie sent (a sibling host is same-site) cannot use it.
  const auto origin = head[http::field::origin];
  if (!origin.empty() && origin != own_origin_)
    return refuse(api_error::csrf_failed, "the request comes from another origin", by, false);
  if (!safe_method(head.method()) && !same_secret(head[csrf_header], found->csrf))
    return refuse(api_error::csrf_failed, "the request has no valid X-Valise-CSRF header", by,
                  false);
  if (!allowed(needed, found->kind))
    return refuse(api_error::forbidden, "this user's role may not use this route", by, false);
  actor a;
  a.kind = found->kind;
  a.id = by;
  a.name = found->user;
  a.session = std::move(*found);
  return a;
}

cross_origin api::cross_origin_for(const request_head& head) const {
  auto target = boost::urls::parse_origin_form(head.target());
  if (!target) return {};
  return {head, router_.cross_origin(target->encoded_path()), context_.config.cors_allowed_origins};
}

std::function<void(http::fields&)> api::request_headers(const request_head& head) const {
  return [cors = cross_origin_for(head)](http::fields& res) { cors.apply(res); };
}

void api::add_common_headers(http::response_header<>& head) const {
  web::add_security_headers(head);
}

response api::failure_response(http_failure failure, std::string message) const {
  return api_failure_response(failure, std::move(message));
}

}  // namespace valise::server
