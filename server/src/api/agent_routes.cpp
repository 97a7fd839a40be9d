// Agents: technicians list, show and revoke them; an agent reports its host
// (heartbeat) and renews its certificate, authenticated by that certificate.
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/url.hpp>
#include <limits>

#include "api/api.hpp"
#include "api/api_error.hpp"
#include "api/json_views.hpp"
#include "api/request_body.hpp"

namespace valise::server {
namespace {

namespace json = boost::json;

constexpr std::size_t max_profiles = 256;
constexpr std::size_t max_fact_length = 255;
// What the console shows at once, and the most a page may hold.
constexpr std::size_t default_agents_page = 100;
constexpr std::size_t max_agents_page = 1000;
constexpr std::size_t max_agent_id_length = 128;

std::string subject(const std::string& id) {
  return "agent " + id;
}

// A page of agents, `limit` of them after the agent `after`; a Link header
// (rel="next") names the next page while there is one, so the body stays
// the list it always was (docs/api.md, "Agents").
outcome list_agents(api_context& ctx, request& req) {
  auto params = req.target.params();
  std::optional<response> problem;
  const auto limit = number_param(params, "limit", {1, max_agents_page}, problem);
  if (problem) return std::move(*problem);
  std::string after;
  if (auto it = params.find("after"); it != params.end()) after = (*it).value;
  if (after.size() > max_agent_id_length)
    return error_response(api_error::bad_request, "after must be an agent id");
  const std::size_t page = limit.value_or(default_agents_page);
  auto agents = ctx.db.list_agents(after, page + 1);
  if (!agents && agents.error() == store_errc::not_found)
    return error_response(api_error::bad_request, "after names no agent");
  if (!agents) return error_response(agents.error(), "agents");
  const bool more = agents->size() > page;
  if (more) agents->pop_back();
  // Serialized one agent at a time: with 10,000 agents, one JSON tree of
  // them all took 200 ms of allocations and kept 80 MiB of heap afterwards.
  std::string out = "[";
  out.reserve(agents->size() * 320);
  for (const auto& a : *agents) {
    if (out.size() > 1) out += ',';
    out += json::serialize(to_json(a));
  }
  out += ']';
  auto res = json_text_response(http::status::ok, std::move(out));
  if (more) {
    boost::urls::url next("/api/v1/agents");
    next.params().append({"limit", std::to_string(page)});
    next.params().append({"after", agents->back().id});
    res.set(http::field::link, "<" + std::string(next.buffer()) + ">; rel=\"next\"");
  }
  return res;
}

outcome show_agent(api_context& ctx, request& req) {
  auto a = ctx.db.get_agent(req.params[0]);
  if (!a) return error_response(a.error(), subject(req.params[0]), api_error::agent_not_found);
  return json_response(http::status::ok, to_json(*a));
}

outcome revoke_agent(api_context& ctx, request& req) {
  auto a = ctx.db.revoke_agent(*req.who, req.params[0]);
  if (!a) return error_response(a.error(), subject(req.params[0]), api_error::agent_not_found);
  // Its long-polls answer 403 now, not when their wait ends.
  ctx.wakeups.wake(a->id);
  return json_response(http::status::ok, to_json(*a));
}

// Replaces the facts the body names; the others stay as they were.
std::optional<response> read_facts(const json::object& body, agent_facts& facts) {
  std::optional<response> problem;
  for (auto [key, field] :
       {std::pair{"hostname", &agent_facts::hostname}, std::pair{"os", &agent_facts::os},
        std::pair{"kernel", &agent_facts::kernel}, std::pair{"version", &agent_facts::version}}) {
    // A hostname may not be emptied; the other facts may.
    const text_length length{std::string_view(key) == "hostname" ? 1u : 0u, max_fact_length};
    auto value = text_field(body, key, length, problem);
    if (problem) return problem;
    if (value) facts.*field = std::move(*value);
  }
  if (auto* cap = body.if_contains("max_upload_bytes"); cap && !cap->is_null()) {
    // The agent's spool_max_bytes; 0 from an agent that has no cap to tell.
    boost::system::error_code ec;
    auto bytes = cap->to_number<std::uint64_t>(ec);
    if (ec || bytes > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
      return error_response(api_error::bad_request, "max_upload_bytes must be a byte count");
    facts.max_upload_bytes = bytes == 0 ? std::nullopt : std::optional(bytes);
  }
  if (auto* listed = body.if_contains("profiles"); listed && !listed->is_null()) {
    if (!listed->is_array() || listed->as_array().size() > max_profiles)
      return error_response(api_error::bad_request, "profiles must be a list of profile names");
    facts.profiles.clear();
    for (const auto& p : listed->as_array()) {
      if (!p.is_string() || !valid_profile_name(p.as_string()))
        return error_response(api_error::bad_request,
                              "profiles must be names of 1-64 letters, digits, '.', '_' or '-'");
      facts.profiles.emplace_back(p.as_string());
    }
  }
  return std::nullopt;
}

outcome heartbeat(api_context& ctx, request& req) {
  auto parsed = parse_object(req.body);
  if (auto* res = std::get_if<response>(&parsed)) return std::move(*res);
  auto current = ctx.db.get_agent(req.who->id);
  if (!current) return error_response(current.error(), subject(req.who->id));
  agent_facts facts = current->facts;
  if (auto problem = read_facts(std::get<json::object>(parsed), facts)) return std::move(*problem);
  auto updated = ctx.db.update_agent_facts(*req.who, facts, req.now);
  if (!updated) return error_response(updated.error(), subject(req.who->id));
  return json_response(http::status::ok,
                       json::object{{"cert_expires_at", format_rfc3339(updated->cert_expires_at)},
                                    {"server_time", format_rfc3339(req.now)}});
}

outcome renew_certificate(api_context& ctx, request& req) {
  auto parsed = parse_object(req.body);
  if (auto* res = std::get_if<response>(&parsed)) return std::move(*res);
  std::optional<response> problem;
  auto csr = pem_field(std::get<json::object>(parsed), "csr", problem);
  if (problem) return std::move(*problem);
  if (!csr) return error_response(api_error::bad_csr, "csr is required");
  auto issued = ctx.ca.sign_agent(*csr, req.who->id, ctx.config.agent_certificate_lifetime);
  if (!issued) return error_response(issued.error(), "certificate renewal");
  auto renewed = ctx.db.renew_agent_certificate(*req.who, std::string(req.peer_sha256), *issued);
  if (!renewed) return error_response(renewed.error(), subject(req.who->id));
  return json_response(http::status::ok,
                       json::object{{"certificate", issued->pem},
                                    {"ca", ctx.ca.pem()},
                                    {"expires_at", format_rfc3339(issued->expires_at)}});
}

}  // namespace

void add_agent_routes(router& r, api_context& ctx) {
  using v = http::verb;
  auto bind = [&ctx](auto fn) { return with_context(ctx, fn); };
  r.add(v::get, "/api/v1/agents", access::technician, body_kind::none, bind(list_agents));
  r.add(v::get, "/api/v1/agents/{}", access::technician, body_kind::none, bind(show_agent));
  r.add(v::post, "/api/v1/agents/{}/revoke", access::technician, body_kind::none,
        bind(revoke_agent));
  r.add(v::post, "/api/v1/agent/heartbeat", access::agent, body_kind::json, bind(heartbeat));
  r.add(v::post, "/api/v1/agent/certificate", access::agent, body_kind::json,
        bind(renew_certificate));
}

}  // namespace valise::server
