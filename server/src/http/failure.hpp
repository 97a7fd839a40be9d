// What the HTTP layer refuses on its own, around a route's handler: a head
// it cannot parse or frame, a body past its limit, no place for the
// connection, no route. http/ names the failure; the application words it
// (api/ maps each to its catalogue's error, so clients read the API's JSON
// errors), which keeps http/ free of anything above it.
#pragma once

#include <functional>
#include <string>

#include "http/message.hpp"

namespace valise::server {

enum class http_failure {
  bad_request,         // 400: a malformed head or target, a refused X-HTTP-Method-Override
  headers_too_large,   // 431
  transfer_coding,     // 501: a Transfer-Encoding other than chunked
  too_large,           // 413: a body past its limit
  busy,                // 503: no place for the connection
  route_not_found,     // 404
  method_not_allowed,  // 405 (the router adds Allow)
};

// The response a failure gets, with `message` for the client.
using failure_responder = std::function<response(http_failure, std::string message)>;

// Its status and the message as plain text: what a router built on its own
// (unit tests, fuzzers) answers; the server's answers through the API.
response plain_failure_response(http_failure failure, std::string message);

}  // namespace valise::server
