// Admins manage technician accounts: /api/v1/users (docs/api.md). The same
// as `valise-server user` on the command line.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "accounts/credentials.hpp"
#include "api/api.hpp"
#include "api/api_error.hpp"
#include "api/json_views.hpp"
#include "api/request_body.hpp"

namespace valise::server {
namespace {

namespace json = boost::json;

// The password field of `body`, checked and hashed, or the answer.
std::variant<std::string, response> new_password_hash(api_context& ctx, json::object& body) {
  std::optional<response> problem;
  auto password = secret_field(body, "password", problem);
  if (problem) return std::move(*problem);
  if (!password) return error_response(api_error::bad_request, "password is required");
  if (auto why = password_problem(password->view()))
    return error_response(api_error::bad_request, *why);
  hashing_permit permit(ctx.sign_in);
  if (!permit)
    return error_response(api_error::busy, "too many passwords being hashed at once",
                          "retry in a moment");
  auto hash = hash_password(*password);
  if (!hash) return error_response(api_error::internal, "argon2id could not get its memory");
  return std::move(*hash);
}

outcome list_users(api_context& ctx, request&) {
  auto users = ctx.db.list_users();
  if (!users) return error_response(users.error(), "users");
  json::array out;
  for (const auto& u : *users) out.push_back(to_json(u));
  return json_response(http::status::ok, out);
}

outcome create_user(api_context& ctx, request& req) {
  auto parsed = parse_object(req.body);
  crypto::secure_zero(req.body.data(), req.body.size());
  if (auto* res = std::get_if<response>(&parsed)) return std::move(*res);
  auto& body = std::get<json::object>(parsed);
  std::optional<response> problem;
  auto name = string_field(body, "name", problem);
  auto kind_name = string_field(body, "role", problem);
  if (problem) return std::move(*problem);
  if (!name || !valid_user_name(*name))
    return error_response(api_error::bad_request, "name must be 1 to 64 of A-Z a-z 0-9 . _ - @");
  const auto kind = parse_role(kind_name.value_or("technician"));
  if (!kind) return error_response(api_error::bad_request, "role must be admin or technician");
  auto hash = new_password_hash(ctx, body);
  if (auto* res = std::get_if<response>(&hash)) return std::move(*res);
  user_info u;
  u.name = *name;
  u.kind = *kind;
  auto made = ctx.db.create_user(*req.who, u, std::get<std::string>(hash));
  if (!made && made.error() == store_errc::already_exists)
    return error_response(api_error::user_exists, "a user named \"" + *name + "\" exists");
  if (!made) return error_response(made.error(), "user \"" + *name + "\"");
  return json_response(http::status::created, to_json(*made));
}

outcome set_disabled(api_context& ctx, request& req, bool disabled) {
  auto u = ctx.db.set_user_disabled(*req.who, req.params[0], disabled);
  if (!u)
    return error_response(u.error(), "user \"" + req.params[0] + "\"", api_error::user_not_found);
  return json_response(http::status::ok, to_json(*u));
}

outcome disable_user(api_context& ctx, request& req) {
  return set_disabled(ctx, req, true);
}

outcome enable_user(api_context& ctx, request& req) {
  return set_disabled(ctx, req, false);
}

outcome change_password(api_context& ctx, request& req) {
  auto parsed = parse_object(req.body);
  crypto::secure_zero(req.body.data(), req.body.size());
  if (auto* res = std::get_if<response>(&parsed)) return std::move(*res);
  auto hash = new_password_hash(ctx, std::get<json::object>(parsed));
  if (auto* res = std::get_if<response>(&hash)) return std::move(*res);
  if (auto r = ctx.db.set_user_password(*req.who, req.params[0], std::get<std::string>(hash)); !r)
    return error_response(r.error(), "user \"" + req.params[0] + "\"", api_error::user_not_found);
  return empty_response(http::status::no_content);
}

}  // namespace

void add_user_routes(router& r, api_context& ctx) {
  using v = http::verb;
  auto bind = [&ctx](auto fn) { return with_context(ctx, fn); };
  r.add(v::get, "/api/v1/users", access::admin, body_kind::none, bind(list_users));
  r.add(v::post, "/api/v1/users", access::admin, body_kind::json, bind(create_user));
  r.add(v::post, "/api/v1/users/{}/disable", access::admin, body_kind::none, bind(disable_user));
  r.add(v::post, "/api/v1/users/{}/enable", access::admin, body_kind::none, bind(enable_user));
  r.add(v::post, "/api/v1/users/{}/password", access::admin, body_kind::json,
        bind(change_password));
}

}  // namespace valise::server
