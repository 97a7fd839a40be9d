#include "http/client_address.hpp"

namespace valise::server {
namespace {

namespace ip = boost::asio::ip;

ip::address unmapped(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

}  // namespace

std::string address_key(const ip::address& address) {
  auto a = unmapped(address);
  if (a.is_v4()) return a.to_string();
  return ip::make_network_v6(a.to_v6(), 64).canonical().to_string();
}

std::optional<address_set> address_set::parse(const std::vector<std::string>& entries) {
  address_set out;
  for (const auto& entry : entries) {
    boost::system::error_code ec;
    std::string text = entry.find('/') == std::string::npos
                           ? entry + (entry.find(':') == std::string::npos ? "/32" : "/128")
                           : entry;
    if (text.find(':') == std::string::npos) {
      auto n = ip::make_network_v4(text, ec);
      if (ec) return std::nullopt;
      out.v4_.push_back(n.canonical());
    } else {
      auto n = ip::make_network_v6(text, ec);
      if (ec) return std::nullopt;
      out.v6_.push_back(n.canonical());
    }
  }
  return out;
}

bool address_set::contains(const ip::address& address) const {
  auto a = unmapped(address);
  if (a.is_v4()) {
    for (const auto& n : v4_)
      if (ip::make_network_v4(a.to_v4(), n.prefix_length()).canonical() == n) return true;
    return false;
  }
  for (const auto& n : v6_)
    if (ip::make_network_v6(a.to_v6(), n.prefix_length()).canonical() == n) return true;
  return false;
}

}  // namespace valise::server
