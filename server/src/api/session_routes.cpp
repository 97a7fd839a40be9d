// The console's sign-in: POST/GET/DELETE /api/v1/session (docs/api.md,
// "Sessions (the console)"). Who a cookie stands for is decided in api.cpp,
// with the bearer tokens.
#include <boost/json/object.hpp>

#include "accounts/credentials.hpp"
#include "api/api.hpp"
#include "api/api_error.hpp"
#include "api/json_views.hpp"
#include "api/request_body.hpp"
#include "api/session_cookie.hpp"
#include "valise/common/ascii.hpp"

namespace valise::server {
namespace {

namespace json = boost::json;

json::object session_json(const session_info& s, const session_policy& policy) {
  return {{"user", json::object{{"name", s.user}, {"role", to_string(s.kind)}}},
          {"csrf", s.csrf},
          {"expires_at", format_rfc3339(session_expires_at(s, policy))},
          {"idle_timeout_s", policy.idle_timeout}};
}

// application/json, with parameters or not: what no HTML form can send.
bool json_content(std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return type.size() == 16 && boost::beast::iequals(type, "application/json");
}

response too_many(std::chrono::seconds wait, const std::string& why) {
  auto res = error_response(api_error::too_many_failures, why,
                            "wait the Retry-After seconds, then check the user name and password");
  res.set(http::field::retry_after, std::to_string(wait.count()));
  return res;
}

outcome sign_in(api_context& ctx, request& req) {
  auto& guard = ctx.sign_in;
  const client_info& from = *req.from;
  // The body holds the password: wiped once parsed (or refused).
  struct wipe_body {
    std::string& body;
    ~wipe_body() { crypto::secure_zero(body.data(), body.size()); }
  } wiped{req.body};
  auto refused = [&](const std::string& reason, const std::string& by) {
    guard.refused({.action = "session.refused",
                   .source = from.key,
                   .address = from.address.to_string(),
                   .by = by,
                   .reason = reason,
                   .route = "POST /api/v1/session"},
                  req.now);
  };
  if (!json_content(req.head[http::field::content_type]))
    return error_response(api_error::wrong_content_type,
                          "sign in with Content-Type: application/json",
                          "send {\"user\": NAME, \"password\": PASSWORD} as JSON");
  const auto clock_now = auth_throttle::clock::now();
  if (auto wait = guard.by_address.retry_after(from.key, clock_now); wait.count() > 0) {
    refused("too many failed authentications from this address", "anonymous");
    ctx.stats.requests_throttled.fetch_add(1, std::memory_order_relaxed);
    return too_many(wait, "too many failed authentications from this address");
  }
  auto parsed = parse_object(req.body);
  if (auto* res = std::get_if<response>(&parsed)) return std::move(*res);
  auto& body = std::get<json::object>(parsed);
  std::optional<response> problem;
  auto password = secret_field(body, "password", problem);
  auto name = string_field(body, "user", problem);
  if (problem) return std::move(*problem);
  if (!name || !password)
    return error_response(api_error::bad_request, "user and password are required",
                          "send {\"user\": NAME, \"password\": PASSWORD}");
  // A name no account can have is a wrong name: the same answer, the same cost.
  const bool possible = valid_user_name(*name) && password->view().size() <= max_password_bytes;
  const std::string account = possible ? common::ascii_lower(*name) : std::string("?invalid");
  std::optional<store::user_credentials> found;
  if (possible) {
    auto creds = ctx.db.get_user_credentials(*name);
    if (!creds && creds.error() != store_errc::not_found)
      return error_response(creds.error(), "user");
    if (creds) found = std::move(*creds);
  }
  // The audit names only an account that exists: what was typed as a user
  // name may be a password in the wrong field, and the trail is permanent.
  const std::string by = found ? "user:" + found->user.name : "anonymous";
  if (auto wait = guard.by_account.retry_after(account, clock_now); wait.count() > 0) {
    refused("too many failed sign-ins for this account", by);
    ctx.stats.requests_throttled.fetch_add(1, std::memory_order_relaxed);
    return too_many(wait, "too many failed sign-ins for this account");
  }
  hashing_permit permit(guard);
  if (!permit)
    return error_response(api_error::busy, "too many sign-ins at once", "retry in a moment");

  std::string failure;
  if (!found) {
    verify_dummy_password(*password);  // as long as a wrong password takes
    failure = "unknown user";
  } else if (!verify_password(found->password_hash, *password)) {
    failure = "wrong password";
  } else if (found->user.disabled) {
    failure = "user disabled";
  }
  if (!failure.empty()) {
    guard.by_address.failed(from.key, clock_now);
    guard.by_account.failed(account, clock_now);
    refused(failure, by);
    return error_response(api_error::bad_credentials, "wrong user name or password");
  }
  if (password_needs_rehash(found->password_hash))
    if (auto rehashed = hash_password(*password))
      (void)ctx.db.rehash_user_password(found->user.name, found->password_hash, *rehashed);

  const auto policy = session_policy_of(ctx.config);
  auto session = ctx.db.create_session(found->user.name, req.now, policy, from.address.to_string());
  if (!session && session.error() == store_errc::not_found)  // disabled meanwhile
    return error_response(api_error::bad_credentials, "wrong user name or password");
  if (!session) return error_response(session.error(), "session");
  auto res = json_response(http::status::created, session_json(session->info, policy));
  res.set(http::field::set_cookie, session_set_cookie(session->secret));
  res.set(http::field::cache_control, "no-store");
  crypto::secure_zero(session->secret.data(), session->secret.size());
  return res;
}

outcome current_session(api_context& ctx, request& req) {
  auto res = json_response(http::status::ok,
                           session_json(*req.who->session, session_policy_of(ctx.config)));
  res.set(http::field::cache_control, "no-store");
  return res;
}

outcome sign_out(api_context& ctx, request& req) {
  if (auto r = ctx.db.end_session(*req.who, *req.who->session, "signed out"); !r)
    return error_response(r.error(), "session");
  auto res = empty_response(http::status::no_content);
  res.set(http::field::set_cookie, session_clear_cookie());
  return res;
}

}  // namespace

void add_session_routes(router& r, api_context& ctx) {
  using v = http::verb;
  auto bind = [&ctx](auto fn) { return with_context(ctx, fn); };
  r.add(v::post, "/api/v1/session", access::anyone, body_kind::json, bind(sign_in));
  r.add(v::get, "/api/v1/session", access::session, body_kind::none, bind(current_session));
  r.add(v::delete_, "/api/v1/session", access::session, body_kind::none, bind(sign_out));
}

}  // namespace valise::server
