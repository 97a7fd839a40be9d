// HAProxy's PROXY protocol, versions 1 (text) and 2 (binary), as sent by a
// load balancer in front of the server: a header before the TLS bytes that
// names the real client's address. Read only on connections from a
// configured trusted proxy (anyone else could claim any address). Pure: the
// connection reads bytes and asks; tests/fuzz replays it.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace valise::server::proxy_protocol {

// The largest header accepted: v2's 16 bytes and room for its TLVs.
inline constexpr std::size_t max_header = 16 + 1024;

enum class state { complete, need_more, invalid };

struct parsed {
  state outcome = state::need_more;
  std::size_t length = 0;  // bytes of the header, when complete
  // The client's address; none for a proxy's own health check (v2 LOCAL,
  // v1 UNKNOWN, or an address family other than IPv4/IPv6).
  std::optional<boost::asio::ip::address> source;
  std::string problem;  // when invalid
};

// Reads a header from the start of `data` (what has arrived so far).
parsed parse(std::span<const std::uint8_t> data);

}  // namespace valise::server::proxy_protocol
