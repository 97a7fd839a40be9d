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
      return true;
    case access::admin:
      return kind == role::admin;
    case access::technician:
      return kind == role::admin || kind == role::technician;
    case access::uploader:
      return true;
  }
  return false;
}

}  // namespace

api::api(store& db, const server_config& config, metrics& stats)
    : tus_(db,
           {.max_upload_bytes = config.max_upload_bytes,
            .expires_after = config.upload_expires_after},
           stats),
      context_{db, config, stats, tus_} {
  add_ticket_routes(router_, context_);
  add_link_routes(router_, context_);
  add_bundle_routes(router_, context_);
  add_upload_routes(router_, context_);
  add_admin_routes(router_, context_);
}

std::variant<api::admitted, response> api::admit(const request_head& head, unix_time now) {
  auto target = boost::urls::parse_origin_form(head.target());
  if (!target) return error_response(api_error::bad_request, "the request target is not a path");
  auto method = effective_method(head);
  auto found = router_.find(method, target->encoded_path());
  if (auto* res = std::get_if<response>(&found)) return std::move(*res);
  auto& match = std::get<router::match>(found);
  admitted out{match.found, std::move(match.params), std::nullopt, method, *target};
  if (match.found->who == access::anyone) return out;

  const std::string route_text =
      std::string(http::to_string(method)) + " " + std::string(target->encoded_path());
  auto refuse = [&](api_error e, const std::string& reason, const std::string& by) {
    boost::json::object detail{{"by", by}, {"route", route_text}, {"reason", reason}};
    (void)context_.db.audit(actor::system(), "auth.refused", "", boost::json::serialize(detail));
    return error_response(e, reason);
  };
  auto token = bearer_token(head);
  if (token.empty()) return refuse(api_error::unauthorized, "no bearer token", "anonymous");
  auto who = context_.db.authenticate(std::string(token), now);
  if (!who) {
    if (who.error() != store_errc::not_found) return error_response(who.error(), "credentials");
    return refuse(api_error::unauthorized, "the token is unknown, revoked or expired", "anonymous");
  }
  if (!allowed(match.found->who, who->kind))
    return refuse(api_error::forbidden, "this token's role may not use this route", who->label());
  out.who = std::move(*who);
  return out;
}

}  // namespace valise::server
