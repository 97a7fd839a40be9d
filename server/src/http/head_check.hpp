// What a request head must say before the server trusts the connection past
// it (RFC 9112 §6, §3.2): exactly one way to find where the body ends, and a
// Host. A head that leaves the body's end in doubt lets a client smuggle a
// second request inside the first, so it is answered and the connection
// closed. Pure: no I/O, fuzzed with the parser (tests/fuzz/http_head_fuzz).
#pragma once

#include <boost/system/error_code.hpp>
#include <optional>
#include <string>

#include "http/message.hpp"

namespace valise::server {

struct head_refusal {
  http::status status;  // 400, or 501 for a transfer coding we do not implement
  std::string message;
};

// A head Beast parsed, checked for framing: Transfer-Encoding is "chunked"
// alone and never beside Content-Length, and an HTTP/1.1 request has one Host.
std::optional<head_refusal> check_framing(const request_head& head);

// A failure of Beast's head parser that deserves an answer (malformed
// request); nullopt when the connection just ended (closed, timed out, reset).
std::optional<head_refusal> parse_refusal(boost::system::error_code ec);

}  // namespace valise::server
