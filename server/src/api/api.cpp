#include "api/api.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include "api/api_error.hpp"

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
      return kind == role::admin || kind == role::technician;
    case access::agent:
      return kind == role::agent;
  }
  return false;
}

}  // namespace

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
}

api::api(store& db, const server_config& config, metrics& stats, const certificate_authority& ca)
    : tus_(db,
           {.max_upload_bytes = config.max_upload_bytes,
            .expires_after = config.upload_expires_after},
           stats),
      context_{db, config, stats, tus_, ca, wakeups_} {
  add_routes(router_, context_);
}

std::variant<actor, response> api::admit_agent(const std::string& route_text,
                                               const std::string& peer_sha256, unix_time now) {
  auto found = context_.db.authenticate_agent(peer_sha256, now);
  if (!found) {
    if (found.error() != store_errc::not_found)
      return error_response(found.error(), "agent credentials");
    audit_agent_refusal(context_.db, route_text, "unknown or expired certificate", peer_sha256, {});
    return error_response(api_error::unauthorized,
                          "the client certificate is not an enrolled agent's, or it expired",
                          "enroll the agent again with a new enrollment token");
  }
  if (found->revoked_at) {
    audit_agent_refusal(context_.db, route_text, "agent revoked", peer_sha256, found->id);
    return error_response(api_error::certificate_revoked, "agent " + found->id + " is revoked");
  }
  actor a;
  a.kind = role::agent;
  a.id = found->id;
  a.name = found->id;
  return a;
}

std::variant<api::admitted, response> api::admit(const request_head& head, unix_time now,
                                                 const std::string& peer_sha256) {
  auto target = boost::urls::parse_origin_form(head.target());
  if (!target) return error_response(api_error::bad_request, "the request target is not a path");
  auto method = effective_method(head);
  auto found = router_.find(method, target->encoded_path());
  if (auto* res = std::get_if<response>(&found)) return std::move(*res);
  auto& match = std::get<router::match>(found);
  admitted out{match.found, std::move(match.params), std::nullopt, method, *target};
  const access needed = match.found->who;
  if (needed == access::anyone) return out;

  const std::string route_text =
      std::string(http::to_string(method)) + " " + std::string(target->encoded_path());
  auto refuse = [&](api_error e, const std::string& reason, const std::string& by) {
    boost::json::object detail{{"by", by}, {"route", route_text}, {"reason", reason}};
    (void)context_.db.audit(actor::system(), "auth.refused", "", boost::json::serialize(detail));
    return error_response(e, reason);
  };
  auto token = bearer_token(head);
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
    auto agent = admit_agent(route_text, peer_sha256, now);
    if (auto* res = std::get_if<response>(&agent)) return std::move(*res);
    out.who = std::move(std::get<actor>(agent));
    return out;
  }
  if (token.empty()) return refuse(api_error::unauthorized, "no bearer token", "anonymous");
  auto who = context_.db.authenticate(std::string(token), now);
  if (!who) {
    if (who.error() != store_errc::not_found) return error_response(who.error(), "credentials");
    return refuse(api_error::unauthorized, "the token is unknown, revoked or expired", "anonymous");
  }
  if (!allowed(needed, who->kind))
    return refuse(api_error::forbidden, "this token's role may not use this route", who->label());
  out.who = std::move(*who);
  return out;
}

}  // namespace valise::server
