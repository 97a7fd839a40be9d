// One client connection: a PROXY header if it comes from a trusted proxy,
// the TLS handshake, then requests one after another (keep-alive), each read
// head first, checked, and only then its body. Every read and write has a
// deadline, a short one until the connection has authenticated, so a silent
// client cannot hold a place; connection_budget decides who keeps one.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>

#include "http/client_address.hpp"
#include "http/connection_budget.hpp"
#include "http/connection_stats.hpp"
#include "http/request_handler.hpp"
#include "http/tls_contexts.hpp"

namespace valise::server {

struct connection_limits {
  std::chrono::seconds timeout{30};            // per read or write once authenticated
  std::chrono::seconds handshake_timeout{10};  // PROXY header, TLS, heads before that
  std::uint32_t header_limit = 16 * 1024;
  std::uint64_t json_limit = 64 * 1024;
};

// What every connection shares.
struct connection_context {
  const tls_contexts& tls;  // each connection takes the current one
  request_handler& app;     // what the requests are for: the API
  connection_stats& stats;  // the server's metrics
  connection_budget& budget;
  const address_set& trusted_proxies;
  connection_limits limits;
};

// Serves one accepted connection until it closes; when the budget has no
// place for it, answers 503 after the handshake and closes. `in_flight`, the
// accept loop's count of it, ends with its handshake.
boost::asio::awaitable<void> serve_connection(boost::asio::ip::tcp::socket socket,
                                              connection_context& ctx,
                                              connection_budget::handshake in_flight);

// Accepts connections and serves each, holding back while
// ctx.budget's handshakes in flight are at their cap: newcomers then wait in
// the listen backlog. Returns once the acceptor is closed.
boost::asio::awaitable<void> accept_connections(boost::asio::ip::tcp::acceptor& acceptor,
                                                connection_context& ctx);

}  // namespace valise::server
