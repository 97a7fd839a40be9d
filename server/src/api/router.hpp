// Routes: method + path pattern ("/api/v1/tickets/{}/resolve"; a last "{*}"
// stands for one or more segments: "/console/{*}") -> who may call
// it, what body it takes, and the handler. The API (api.hpp) matches a route
// from the request head alone and checks credentials; only then does the
// connection read a body, so an unauthorised client never gets to send one.
#pragma once

#include <boost/url/url_view.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "http/client_address.hpp"
#include "http/failure.hpp"
#include "http/message.hpp"
#include "http/request_handler.hpp"
#include "valise/server/store.hpp"

namespace valise::server {

enum class access {
  anyone,      // no token needed
  admin,       // admin tokens
  technician,  // technician and admin tokens
  uploader,    // any valid token, links included, or an agent's certificate
  agent,       // an enrolled, unrevoked agent's client certificate (no token)
  enrollment,  // an unused, unexpired enrollment token
  link,        // an upload link's token (its own information)
  session,     // a valid session cookie (the console's own session routes)
};

struct request {
  const request_head& head;
  http::verb method;                // after X-HTTP-Method-Override
  std::vector<std::string> params;  // the path's {} segments, percent-decoded
  boost::urls::url_view target;
  std::string body;  // body_kind::json only
  const actor* who;  // null for access::anyone and access::enrollment
  unix_time now;
  std::string_view peer_sha256;       // the client certificate's fingerprint, if any
  const client_info* from = nullptr;  // the client's address
};

using handler = std::function<outcome(request&)>;

// What a route allows beyond its method and path; both off by default.
struct route_options {
  // Reached by a POST with X-HTTP-Method-Override naming this route's method
  // (tus clients behind proxies that pass only GET and POST).
  bool method_override = false;
  // Browsers on the origins of [cors] allowed_origins may call it (upload
  // widgets on a helpdesk portal).
  bool cross_origin = false;
  // A page asks it on its own (the console's event long-poll, its polling
  // of uploads in progress): with a session cookie it is not a use of the
  // session, so an unattended open tab does not keep an idle session alive.
  bool background = false;
  // The largest JSON body it takes; 0: the server's limit for JSON (64 KiB).
  std::uint64_t max_body = 0;
};

struct route {
  http::verb method;
  std::string pattern;
  access who;
  body_kind body;
  handler fn;
  route_options options;
};

class router {
 public:
  // `refuse` words the router's 404, 405 and 400 (the API's error bodies in
  // the server).
  explicit router(failure_responder refuse = plain_failure_response) : refuse_(std::move(refuse)) {}

  void add(http::verb method, std::string pattern, access who, body_kind body, handler fn,
           route_options options = {});

  struct match {
    const route* found = nullptr;
    std::vector<std::string> params;
    http::verb method = http::verb::unknown;  // the route's: after X-HTTP-Method-Override
  };
  // The route for a method and path; on no match, the error response
  // (404, or 405 with Allow when the path exists for other methods).
  std::variant<match, response> find(http::verb method, std::string_view path) const;
  // The route for a request: its method, or the one X-HTTP-Method-Override
  // names on a POST to a route that takes it. The header anywhere else is a
  // 400, not ignored: a client that sends it means another method than the
  // one it would get.
  std::variant<match, response> find(const request_head& head, std::string_view path) const;
  // Whether some route at `path` takes cross-origin requests.
  bool cross_origin(std::string_view path) const;

 private:
  failure_responder refuse_;
  std::vector<route> routes_;
};

}  // namespace valise::server
