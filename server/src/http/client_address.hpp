// Client addresses as the connection limits and the authentication throttle
// count them, and the address lists of server.toml (trusted proxies).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <optional>
#include <string>
#include <vector>

namespace valise::server {

// What limits count by: an IPv4 address, or an IPv6 /64 (a host gets a whole
// /64 and picks addresses in it at will). IPv4-mapped IPv6 counts as IPv4.
std::string address_key(const boost::asio::ip::address& a);

// Where a request comes from: the TCP peer, or the client a trusted proxy
// named (PROXY protocol).
struct client_info {
  boost::asio::ip::address address;
  std::string key;  // address_key(address)
};

// A set of addresses and prefixes ("10.0.0.0/8", "::1").
class address_set {
 public:
  // nullopt if an entry is neither an address nor a prefix.
  static std::optional<address_set> parse(const std::vector<std::string>& entries);
  bool contains(const boost::asio::ip::address& a) const;
  bool empty() const { return v4_.empty() && v6_.empty(); }

 private:
  std::vector<boost::asio::ip::network_v4> v4_;
  std::vector<boost::asio::ip::network_v6> v6_;
};

}  // namespace valise::server
