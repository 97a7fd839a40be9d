// Diagnostics requests, the agent's side: long-poll for jobs, report progress.
// A long-poll holds no thread: it parks in agent_wakeups until a request is
// made for the agent, the agent is revoked, or the wait ends.
#include <boost/asio/this_coro.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "api/api.hpp"
#include "api/api_error.hpp"
#include "api/json_views.hpp"
#include "api/request_body.hpp"

namespace valise::server {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

constexpr unsigned max_wait_s = 60;
constexpr std::size_t max_jobs = 100;
constexpr std::size_t max_error_bytes = 1024;

// The jobs now, or the 403 of an agent revoked meanwhile; `final` unless
// it is an empty list a long-poll may wait on.
struct jobs_answer {
  response res;
  bool final = true;
};

jobs_answer jobs_now(api_context& ctx, const actor& agent) {
  auto a = ctx.db.get_agent(agent.id);
  if (!a) return {error_response(a.error(), "agent " + agent.id)};
  if (a->revoked_at) {
    audit_agent_refusal(ctx.db, "GET /api/v1/agent/jobs", "agent revoked while waiting",
                        a->cert_sha256, a->id);
    return {error_response(api_error::certificate_revoked, "agent " + a->id + " is revoked")};
  }
  auto queued = ctx.db.list_requests(
      {.agent_id = agent.id, .state = request_state::queued, .limit = max_jobs});
  if (!queued) return {error_response(queued.error(), "jobs")};
  json::array jobs;
  for (const auto& r : *queued) jobs.push_back(job_json(r));
  const bool any = !jobs.empty();
  return {json_response(http::status::ok, json::object{{"jobs", std::move(jobs)}}), any};
}

asio::awaitable<response> wait_for_jobs(api_context& ctx, actor agent, std::chrono::seconds wait) {
  auto waiter = ctx.wakeups.enlist(agent.id, co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    waiter->rearm();  // enlisted before looking: a request made now still wakes us
    auto answer = jobs_now(ctx, agent);
    const auto now = std::chrono::steady_clock::now();
    if (answer.final || now >= deadline) co_return std::move(answer.res);
    co_await waiter->wait(deadline - now);
  }
}

outcome agent_jobs(api_context& ctx, request& req) {
  std::optional<response> problem;
  const auto wait = number_param(req.target.params(), "wait", {0, max_wait_s}, problem).value_or(0);
  if (problem) return std::move(*problem);
  if (wait == 0) return std::move(jobs_now(ctx, *req.who).res);
  return deferred{[&ctx, agent = *req.who, wait] {
    return wait_for_jobs(ctx, agent, std::chrono::seconds(wait));
  }};
}

response state_conflict(api_error e, const std::string& message, const request_info& r) {
  json::object fields{{"state", to_string(r.state)}};
  if (!r.bundle_id.empty()) fields["bundle_id"] = r.bundle_id;
  return error_response_with(e, message, std::move(fields));
}

outcome report_status(api_context& ctx, request& req) {
  const auto& id = req.params[0];
  auto current = ctx.db.get_request(id);
  // Another agent's request does not exist for this one.
  if (!current || current->agent_id != req.who->id) {
    if (current || current.error() == store_errc::not_found)
      return error_response(api_error::request_not_found, "no request " + id + " for this agent");
    return error_response(current.error(), "request " + id);
  }
  // Invalid UTF-8 allowed: older agents cut `error` at a byte count. The
  // other fields must match a state or the request's bundle.
  json::parse_options lenient;
  lenient.allow_invalid_utf8 = true;
  auto parsed = parse_object(req.body, lenient);
  if (auto* res = std::get_if<response>(&parsed)) return std::move(*res);
  auto& body = std::get<json::object>(parsed);
  std::optional<response> problem;
  auto state_text = string_field(body, "state", problem);
  auto error = cleaned_field(body, "error", max_error_bytes, problem);
  auto bundle_id = string_field(body, "bundle_id", problem);
  if (problem) return std::move(*problem);
  auto state = state_text ? parse_request_state(*state_text) : std::nullopt;
  if (!state)
    return error_response(api_error::bad_request,
                          "state must be awaiting_approval, collecting, uploading, done or failed");
  if (is_terminal(current->state))
    return state_conflict(api_error::request_finished,
                          "request " + id + " is already " + std::string(to_string(current->state)),
                          *current);
  if (*state == request_state::done && (!bundle_id || bundle_id->empty()))
    return error_response(api_error::bad_request,
                          "done needs the bundle_id of the request's completed upload");
  if (*state == request_state::done && *bundle_id != current->bundle_id)
    return state_conflict(api_error::bundle_mismatch,
                          current->bundle_id.empty()
                              ? "no upload for request " + id + " has completed"
                              : "request " + id + "'s bundle is " + current->bundle_id,
                          *current);
  request_update update{*state, error.value_or(""), bundle_id.value_or("")};
  auto updated = ctx.db.update_request(*req.who, id, update);
  if (!updated) {
    auto now = ctx.db.get_request(id);
    if (!now) return error_response(now.error(), "request " + id, api_error::request_not_found);
    if (updated.error() == store_errc::request_finished)
      return state_conflict(api_error::request_finished,
                            "request " + id + " is already " + std::string(to_string(now->state)),
                            *now);
    if (updated.error() == store_errc::bad_state)
      return state_conflict(api_error::bad_transition,
                            "request " + id + " cannot go from " +
                                std::string(to_string(now->state)) + " to " +
                                std::string(to_string(*state)),
                            *now);
    return error_response(updated.error(), "request " + id, api_error::request_not_found);
  }
  return json_response(http::status::ok, to_json(*updated));
}

}  // namespace

void add_job_routes(router& r, api_context& ctx) {
  using v = http::verb;
  auto bind = [&ctx](auto fn) { return with_context(ctx, fn); };
  r.add(v::get, "/api/v1/agent/jobs", access::agent, body_kind::none, bind(agent_jobs));
  r.add(v::post, "/api/v1/agent/requests/{}/status", access::agent, body_kind::json,
        bind(report_status));
}

}  // namespace valise::server
