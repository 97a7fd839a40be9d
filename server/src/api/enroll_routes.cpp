// Enrollment: technicians make one-time tokens; an agent trades one, with a
// CSR for the key it generated on site, for its client certificate. The CA
// certificate itself is public, so that an agent can fetch it before it
// trusts anything and check it against the fingerprint its operator gave.
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "api/api.hpp"
#include "api/api_error.hpp"
#include "api/json_views.hpp"
#include "api/request_body.hpp"

namespace valise::server {
namespace {

namespace json = boost::json;

constexpr std::uint64_t default_token_lifetime_s = 3600;
constexpr std::uint64_t max_token_lifetime_s = 7 * 86400;
constexpr std::size_t max_fact_length = 255;

outcome create_enroll_token(api_context& ctx, request& req) {
  auto parsed = parse_object(req.body);
  if (auto* res = std::get_if<response>(&parsed)) return std::move(*res);
  std::optional<response> problem;
  auto expires_in = number_field(std::get<json::object>(parsed), "expires_in_s",
                                 {1, max_token_lifetime_s}, problem);
  if (problem) return std::move(*problem);
  const std::uint64_t lifetime = expires_in.value_or(default_token_lifetime_s);
  auto token = ctx.db.create_enroll_token(*req.who, req.now + static_cast<unix_time>(lifetime));
  if (!token) return error_response(token.error(), "enrollment token");
  return json_response(http::status::created,
                       json::object{{"id", token->info.id},
                                    {"token", token->secret},
                                    {"expires_at", format_rfc3339(token->info.expires_at)}});
}

outcome ca_certificate(api_context& ctx, request&) {
  response res{http::status::ok, 11};
  res.set(http::field::content_type, "application/x-pem-file");
  res.body() = ctx.ca.pem();
  res.prepare_payload();
  return res;
}

outcome enroll(api_context& ctx, request& req) {
  auto parsed = parse_object(req.body);
  if (auto* res = std::get_if<response>(&parsed)) return std::move(*res);
  auto& body = std::get<json::object>(parsed);
  std::optional<response> problem;
  auto csr = pem_field(body, "csr", problem);
  agent_facts facts;
  auto hostname = text_field(body, "hostname", {1, max_fact_length}, problem);
  facts.os = text_field(body, "os", {0, max_fact_length}, problem).value_or("");
  facts.kernel = text_field(body, "kernel", {0, max_fact_length}, problem).value_or("");
  facts.version = text_field(body, "version", {0, max_fact_length}, problem).value_or("");
  if (problem) return std::move(*problem);
  if (!hostname) return error_response(api_error::bad_request, "hostname is required");
  facts.hostname = std::move(*hostname);
  if (!csr) return error_response(api_error::bad_csr, "csr is required");
  // Checked first: a CSR the CA would refuse must not use up the token.
  if (auto ok = ctx.ca.check_csr(*csr); !ok)
    return error_response(api_error::bad_csr, ok.error().message());
  const auto lifetime = ctx.config.agent_certificate_lifetime;
  std::string certificate;
  auto agent = ctx.db.enroll_agent(std::string(bearer_token(req.head)), req.now, facts,
                                   [&](const std::string& agent_id) -> result<issued_certificate> {
                                     auto issued = ctx.ca.sign_agent(*csr, agent_id, lifetime);
                                     if (issued) certificate = issued->pem;
                                     return issued;
                                   });
  if (!agent) {
    if (agent.error() != store_errc::not_found) return error_response(agent.error(), "enrollment");
    // Used by a concurrent enrollment since admission checked it.
    json::object detail{
        {"by", "anonymous"}, {"route", "POST /api/v1/enroll"}, {"reason", "enrollment token used"}};
    (void)ctx.db.audit(actor::system(), "auth.refused", "", json::serialize(detail));
    return error_response(api_error::unauthorized,
                          "the enrollment token is unknown, used or expired");
  }
  return json_response(http::status::created,
                       json::object{{"agent_id", agent->id},
                                    {"certificate", certificate},
                                    {"ca", ctx.ca.pem()},
                                    {"expires_at", format_rfc3339(agent->cert_expires_at)}});
}

}  // namespace

void add_enroll_routes(router& r, api_context& ctx) {
  using v = http::verb;
  auto bind = [&ctx](auto fn) { return with_context(ctx, fn); };
  r.add(v::post, "/api/v1/enroll-tokens", access::technician, body_kind::json,
        bind(create_enroll_token));
  r.add(v::get, "/api/v1/ca", access::anyone, body_kind::none, bind(ca_certificate));
  r.add(v::post, "/api/v1/enroll", access::enrollment, body_kind::json, bind(enroll));
}

}  // namespace valise::server
