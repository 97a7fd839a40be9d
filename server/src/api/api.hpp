// The collector's HTTP API (docs/api.md) as a router over the store: which
// routes exist, who may call each, and the credential check that runs before
// any body is read.
#pragma once

#include <optional>
#include <variant>

#include "http/router.hpp"
#include "metrics.hpp"
#include "tus/tus_service.hpp"
#include "valise/server/config.hpp"
#include "valise/server/store.hpp"

namespace valise::server {

// What route handlers share.
struct api_context {
  store& db;
  const server_config& config;
  metrics& stats;
  tus::service& tus;
};

// A route handler bound to the context.
inline handler with_context(api_context& ctx, outcome (*fn)(api_context&, request&)) {
  return [&ctx, fn](request& req) { return fn(ctx, req); };
}

void add_ticket_routes(router& r, api_context& ctx);
void add_link_routes(router& r, api_context& ctx);
void add_bundle_routes(router& r, api_context& ctx);
void add_upload_routes(router& r, api_context& ctx);
void add_admin_routes(router& r, api_context& ctx);

class api {
 public:
  api(store& db, const server_config& config, metrics& stats);

  // A request whose route is known and whose caller may use it.
  struct admitted {
    const route* target_route = nullptr;
    std::vector<std::string> params;
    std::optional<actor> who;
    http::verb method;
    boost::urls::url_view target;  // views the request head
  };
  // Routes the request and checks its token; a refusal is audited.
  std::variant<admitted, response> admit(const request_head& head, unix_time now);

 private:
  tus::service tus_;
  api_context context_;
  router router_;
};

}  // namespace valise::server
