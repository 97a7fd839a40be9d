// The collector's HTTP API (docs/api.md) as a router over the store: which
// routes exist, who may call each, and the credential check (bearer token,
// session cookie or agent certificate) that runs before any body is read.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <variant>

#include "api/agent_wakeups.hpp"
#include "api/api_error.hpp"
#include "api/auth_throttle.hpp"
#include "api/cross_origin.hpp"
#include "api/refusal_log.hpp"
#include "api/router.hpp"
#include "api/upload_service.hpp"
#include "http/client_address.hpp"
#include "http/request_handler.hpp"
#include "metrics.hpp"
#include "pki.hpp"
#include "valise/server/config.hpp"
#include "valise/server/store.hpp"
#include "web/web_root.hpp"

namespace valise::server {

// What signing in needs beyond the store (session_routes.cpp): failed
// sign-ins spend the address's allowance (the throttle bearer tokens
// spend) and the account's, and are audited folded like auth.refused.
struct sign_in_guard {
  explicit sign_in_guard(auth_throttle& address_throttle) : by_address(address_throttle) {}
  auth_throttle& by_address;
  // 10 failed sign-ins per account at once, then one per 90 s (10 per 15
  // minutes): online guessing stays hopeless, a forgetful user waits minutes.
  auth_throttle by_account{{.burst = 10, .window = std::chrono::minutes(15)}};
  std::function<void(const refusal&, unix_time)> refused = [](const refusal&, unix_time) {};
  // argon2id computations at once: each holds 64 MiB and its I/O thread
  // for a quarter of a second (docs/security.md); past it, 503. One, so
  // that a flood of sign-ins from many addresses holds at most one of the
  // server's threads ([server] threads, 2 by default) and 64 MiB.
  static constexpr unsigned max_hashing = 1;
  std::atomic<unsigned> hashing{0};
};

// One of sign_in_guard's hashing places while it lives; false when none was
// free.
class hashing_permit {
 public:
  explicit hashing_permit(sign_in_guard& guard) : guard_(guard) {
    held_ = guard_.hashing.fetch_add(1) < sign_in_guard::max_hashing;
    if (!held_) guard_.hashing.fetch_sub(1);
  }
  ~hashing_permit() {
    if (held_) guard_.hashing.fetch_sub(1);
  }
  hashing_permit(const hashing_permit&) = delete;
  hashing_permit& operator=(const hashing_permit&) = delete;
  explicit operator bool() const { return held_; }

 private:
  sign_in_guard& guard_;
  bool held_ = false;
};

// What route handlers share.
struct api_context {
  store& db;
  const server_config& config;
  metrics& stats;
  upload_service& uploads;  // tus at /api/v1/uploads
  const certificate_authority& ca;
  agent_wakeups& wakeups;        // agents' job long-polls, by agent id
  agent_wakeups& audit_wakeups;  // event long-polls, by credential; woken by audit records
  const web::web_root& web;
  sign_in_guard& sign_in;
  // Audits a refusal folded per source (refusal_log.hpp): what anonymous
  // routes call.
  std::function<void(const refusal&, unix_time)> refused = [](const refusal&, unix_time) {};
};

// [console] session_idle_timeout and session_lifetime as the store takes them.
session_policy session_policy_of(const server_config& config);

// A route handler bound to the context.
inline handler with_context(api_context& ctx, outcome (*fn)(api_context&, request&)) {
  return [&ctx, fn](request& req) { return fn(ctx, req); };
}

void add_ticket_routes(router& r, api_context& ctx);
void add_link_routes(router& r, api_context& ctx);
void add_bundle_routes(router& r, api_context& ctx);
void add_upload_routes(router& r, api_context& ctx);
void add_admin_routes(router& r, api_context& ctx);
void add_enroll_routes(router& r, api_context& ctx);
void add_agent_routes(router& r, api_context& ctx);
void add_request_routes(router& r, api_context& ctx);
void add_job_routes(router& r, api_context& ctx);
void add_session_routes(router& r, api_context& ctx);
void add_user_routes(router& r, api_context& ctx);
void add_console_routes(router& r, api_context& ctx);  // events, uploads in progress
void add_outbox_routes(router& r, api_context& ctx);   // deliveries owed, retry now
void add_web_routes(router& r, api_context& ctx);      // the pages and their assets
void add_hook_routes(router& r, api_context& ctx);     // helpdesk webhooks ([helpdesk.NAME])
// Every route above: the server's route table (also built by tests/fuzz).
void add_routes(router& r, api_context& ctx);

// Resolves (and so purges) the tickets whose helpdesk solved or closed them
// a grace period ago; the server's loop calls it every second.
void resolve_due_helpdesk_tickets(store& db, metrics& stats, unix_time now);

// Records that an agent was refused (unknown, expired or revoked certificate).
void audit_agent_refusal(store& db, const std::string& route, const std::string& reason,
                         const std::string& cert_sha256, const std::string& agent_id);

// What the connections serve (http/request_handler.hpp).
class api final : public request_handler {
 public:
  // `upload_locks`: one PATCH per upload across nodes (uploads/cluster_locks.hpp); null: one node.
  api(store& db, const server_config& config, metrics& stats, const certificate_authority& ca,
      tus::upload_locks* upload_locks = nullptr);
  ~api() override;
  api(const api&) = delete;
  api& operator=(const api&) = delete;

  // Routes the request and checks its token, its session cookie (and then
  // its CSRF token and Origin), or the client certificate whose
  // fingerprint is `peer_sha256` (empty: none); a refusal is audited
  // (folded per source, refusal_log.hpp), and an address that failed too
  // often is answered 429 before its token is looked at.
  std::variant<admitted, response> admit(const request_head& head, unix_time now,
                                         const std::string& peer_sha256,
                                         const client_info& from) override;

  // Writes the summaries of refusals whose interval ended; called on a
  // timer, and with `all` at shutdown.
  void flush_refusals(unix_time now, bool all = false);

  // The CORS headers a response to this request gets ([cors] allowed_origins
  // and the routes that take cross-origin requests), errors included.
  cross_origin cross_origin_for(const request_head& head) const;
  std::function<void(http::fields&)> request_headers(const request_head& head) const override;

  // The security headers (web/static_site.hpp).
  void add_common_headers(http::response_header<>& head) const override;
  // The catalogue's error for each (api_failure_response).
  response failure_response(http_failure failure, std::string message) const override;

  // Where the browser pages are served from (installed() false: nowhere).
  const web::web_root& web() const { return web_; }

  // The long-polls this node serves, for the wakes of changes other nodes
  // made (cluster/wake_relay.hpp): agents' by agent id, the console's events.
  agent_wakeups& agent_waits() { return wakeups_; }
  agent_wakeups& event_waits() { return audit_wakeups_; }

 private:
  // A request's route and caller, once its credentials are checked.
  struct admission {
    const route* found = nullptr;
    std::vector<std::string> params;
    std::optional<actor> who;  // null for access::anyone and access::enrollment
    http::verb method;         // the route's: after X-HTTP-Method-Override
  };
  std::variant<admission, response> authorize(const request_head& head, unix_time now,
                                              const std::string& peer_sha256,
                                              const client_info& from);
  std::variant<actor, response> admit_agent(const std::string& route_text,
                                            const std::string& peer_sha256, unix_time now,
                                            const client_info& from);
  // The session a cookie names, checked as docs/security.md says; `refuse`
  // records and answers a refusal.
  using refuser = std::function<response(api_error, const std::string& reason,
                                         const std::string& by, bool guessed)>;
  // `background`: the route's option (not a use of the session).
  std::variant<actor, response> admit_session(const request_head& head, std::string_view cookie,
                                              access needed, bool background, unix_time now,
                                              const refuser& refuse);
  // Audits a refusal through refusal_log.
  void audit_refusal(const refusal& r, unix_time now);

  upload_service uploads_;
  agent_wakeups wakeups_;
  agent_wakeups audit_wakeups_;
  auth_throttle throttle_;
  refusal_log refusals_;
  sign_in_guard sign_in_;
  std::string own_origin_;  // of the public URL: what Origin may say with a cookie
  web::web_root web_;
  api_context context_;
  router router_{api_failure_response};
};

}  // namespace valise::server
