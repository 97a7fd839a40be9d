// One client connection: TLS handshake, then requests one after another
// (keep-alive), each read head first, checked, and only then its body. Every
// read and write has a deadline, so a silent client cannot hold a slot.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>

#include "api/api.hpp"
#include "metrics.hpp"

namespace valise::server {

struct connection_limits {
  std::chrono::seconds timeout{30};
  std::uint32_t header_limit = 16 * 1024;
  std::uint64_t json_limit = 64 * 1024;
};

boost::asio::awaitable<void> serve_connection(boost::asio::ip::tcp::socket socket,
                                              boost::asio::ssl::context& tls, api& app,
                                              metrics& stats, connection_limits limits);

// Over the connection cap: answer 503 after the handshake and close.
boost::asio::awaitable<void> refuse_connection(boost::asio::ip::tcp::socket socket,
                                               boost::asio::ssl::context& tls);

}  // namespace valise::server
