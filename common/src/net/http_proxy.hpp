// The pure parts of tunnelling through an HTTP CONNECT proxy (RFC 9110
// 9.3.6): the proxy URL, the CONNECT request, the proxy's status line, what
// to tell the user when it refuses, and no_proxy matching. https_client.cpp
// does the socket work. Unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net/http_url.hpp"
#include "valise/crypto/result.hpp"

namespace valise::common::detail {

// Bound on the proxy's response head: a CONNECT answer is a few lines.
constexpr std::size_t proxy_head_limit = 16u << 10;

struct proxy_address {
  std::string host;  // DNS name (lowercase) or IP address without brackets
  std::uint16_t port = 80;
  std::string shown;  // "host:port" for messages: never the credentials
  bool has_credentials = false;
  std::string user;      // percent-decoded; secret
  std::string password;  // percent-decoded; secret

  proxy_address() = default;
  proxy_address(const proxy_address&) = default;
  proxy_address(proxy_address&&) = default;
  proxy_address& operator=(const proxy_address&) = default;
  proxy_address& operator=(proxy_address&&) = default;
  ~proxy_address();  // wipes user and password
};

// "http://[user[:password]@]host[:port][/]". Another scheme (https, socks5)
// is proxy_unsupported; anything else malformed is proxy_url_invalid.
result<proxy_address> parse_proxy_url(std::string_view url);

// "host:port" as CONNECT and Host name the server (brackets for IPv6).
std::string authority(const server_address& server);

// The whole CONNECT request head, with Proxy-Authorization when the proxy URL
// has credentials: the caller wipes it after sending.
std::string connect_request(const server_address& server, const proxy_address& proxy,
                            std::string_view user_agent);

struct proxy_status {
  unsigned code = 0;
  std::string reason;  // printable ASCII only, truncated: it is shown to the user
};

// The status line that starts `head` ("HTTP/1.1 200 Connection established");
// nullopt if it is not one.
std::optional<proxy_status> parse_proxy_status(std::string_view head);

// last_error_detail() for a non-2xx answer: the status and what it means.
std::string describe_refusal(const proxy_status& status, const proxy_address& proxy,
                             const server_address& server);

// Whether a no_proxy list covers `host` (see proxy_from_environment).
bool no_proxy_matches(std::string_view list, std::string_view host);

}  // namespace valise::common::detail
