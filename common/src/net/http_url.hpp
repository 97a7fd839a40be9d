// The server's address as the HTTPS client needs it, and request targets
// joined to it. Pure (Boost.URL), unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "valise/crypto/result.hpp"

namespace valise::common::detail {

struct server_address {
  std::string host;  // DNS name, or an IP address without brackets
  bool host_is_ip = false;
  std::uint16_t port = 443;
  std::string prefix;  // base path without a trailing slash, "" or "/valise"
  std::string origin;  // "https://host:port", lowercase host, brackets for IPv6
};

// A URL's port: 1 to 65535, decimal digits only.
std::optional<std::uint16_t> parse_port(std::string_view text);

// A DNS name as a request may carry it: letters, digits, '-', '.', '_' (a
// percent-decoded host could otherwise put CR LF into a Host or CONNECT line).
bool plain_host_name(std::string_view host);

// An absolute https:// URL without user info or fragment.
result<server_address> parse_server_url(std::string_view url);

// The request target for `target`: a path ("/api/v1/x?y") is appended to the
// prefix; an absolute URL must be on the same origin (so a token is never sent
// to another server) and is used as it is.
result<std::string> request_target(const server_address& server, std::string_view target);

}  // namespace valise::common::detail
