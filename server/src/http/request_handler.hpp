// The application a connection serves, as the few calls the connection
// makes into it (api/ implements it, server.cpp wires the two): admit a
// request from its head, the headers its responses get, and the words for
// a failure the transport saw. The connection keeps the transport: TLS,
// deadlines, body framing and limits, streaming bodies in and out; the
// admitted route's handler says what the request means.
#pragma once

#include <boost/url/url_view.hpp>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "http/client_address.hpp"
#include "http/failure.hpp"
#include "http/message.hpp"
#include "http/router.hpp"

namespace valise::server {

class request_handler {
 public:
  virtual ~request_handler() = default;

  // A request whose route is known and whose caller may use it.
  struct admitted {
    const route* target_route = nullptr;
    std::vector<std::string> params;
    std::optional<actor> who;  // null for access::anyone and access::enrollment
    http::verb method;
    boost::urls::url_view target;  // views the request head
  };
  // Routes a request from its head and checks its credentials (`peer_sha256`:
  // the client certificate's fingerprint, empty for none), before any body
  // is read; a refusal is the response to send.
  virtual std::variant<admitted, response> admit(const request_head& head, unix_time now,
                                                 const std::string& peer_sha256,
                                                 const client_info& from) = 0;

  // Headers that depend on the request (CORS), decided from its head before
  // the body takes it over, for whatever answers it, refusals included.
  virtual std::function<void(http::fields&)> request_headers(const request_head& head) const = 0;

  // Headers every response gets, errors and downloads included (security
  // headers).
  virtual void add_common_headers(http::response_header<>& head) const = 0;

  // The response to a failure the transport saw (a head too large, a body
  // past its limit, no place for the connection).
  virtual response failure_response(http_failure failure, std::string message) const = 0;
};

}  // namespace valise::server
