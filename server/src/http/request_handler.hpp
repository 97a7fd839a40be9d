// The application a connection serves, as the few calls the connection
// makes into it (api/ implements it, server.cpp wires the two): admit a
// request from its head, the headers its responses get, and the words for
// a failure the transport saw. The connection keeps the transport: TLS,
// deadlines, body framing and limits, streaming bodies in and out; what a
// request means, and who may make it, is the application's.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "http/body_receiver.hpp"
#include "http/client_address.hpp"
#include "http/failure.hpp"
#include "http/message.hpp"
#include "valise/crypto/io.hpp"

namespace valise::server {

// A response whose body is streamed from a file (a stored bundle), read
// from where it stands.
struct download {
  response head;  // status, headers and Content-Length; empty body
  std::unique_ptr<crypto::byte_source> body;
  std::uint64_t length = 0;  // bytes to send from `body`
};

// A response that is not ready yet (an agent's long-poll for jobs): the
// connection awaits it, with no deadline on the socket meanwhile.
struct deferred {
  std::function<boost::asio::awaitable<response>()> wait;
};

// What a request came to: a response, a receiver for its body (an upload),
// a file to stream, or a response to await.
using outcome = std::variant<response, std::unique_ptr<body_receiver>, download, deferred>;

// How the connection reads an admitted request's body: not at all, whole
// (a small JSON document), or streamed into the receiver the request
// answers with.
enum class body_kind { none, json, stream };

class request_handler {
 public:
  virtual ~request_handler() = default;

  // A request the application takes, and what the transport needs for it.
  struct admitted {
    body_kind body = body_kind::none;
    // The largest body_kind::json body; 0: the connection's limit for JSON.
    std::uint64_t max_body = 0;
    // Who the credentials shown are, for the connection budget (the
    // connection leaves the anonymous budget); empty: none shown.
    std::string credential;
    // Runs the request once its body is read: `head` is the request's head
    // (looked up again after a JSON body), `body` the JSON body, empty for
    // the other kinds. Called at most once, before admit's arguments go
    // away.
    std::function<outcome(const request_head& head, std::string body)> run;
  };
  // Admits a request from its head and checks its credentials (`now`:
  // seconds since the epoch; `peer_sha256`: the client certificate's
  // fingerprint, empty for none), before any body is read; a refusal is the
  // response to send.
  virtual std::variant<admitted, response> admit(const request_head& head, std::int64_t now,
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
