#include "http/proxy_protocol.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>
#include <charconv>
#include <string_view>
#include <vector>

namespace valise::server::proxy_protocol {
namespace {

namespace ip = boost::asio::ip;

constexpr std::array<std::uint8_t, 12> v2_signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                       0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::string_view v1_prefix = "PROXY ";
constexpr std::size_t v1_max = 107;  // the spec's longest line, CRLF included

parsed invalid(std::string problem) {
  return {state::invalid, 0, std::nullopt, std::move(problem)};
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> words;
  for (std::size_t at = 0; at <= line.size();) {
    auto space = std::min(line.find(' ', at), line.size());
    words.push_back(line.substr(at, space - at));
    at = space + 1;
  }
  return words;
}

bool is_port(std::string_view s) {
  unsigned port = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
  return ec == std::errc{} && end == s.data() + s.size() && port <= 65535 && !s.empty() &&
         (s.size() == 1 || s.front() != '0');
}

parsed parse_v1(std::string_view data) {
  const auto seen = std::min(data.size(), v1_prefix.size());
  if (data.substr(0, seen) != v1_prefix.substr(0, seen))
    return invalid("not a PROXY protocol header");
  auto end = data.substr(0, v1_max).find("\r\n");
  if (end == std::string_view::npos)
    return data.size() >= v1_max ? invalid("PROXY v1 line longer than 107 bytes")
                                 : parsed{state::need_more};
  auto words = split(data.substr(0, end));
  parsed out{state::complete, end + 2};
  if (words.size() >= 2 && words[1] == "UNKNOWN") return out;
  if (words.size() != 6) return invalid("PROXY v1 line does not have six fields");
  boost::system::error_code ec;
  std::string source(words[2]), target(words[3]);
  if (words[1] == "TCP4") {
    auto a = ip::make_address_v4(source, ec);
    if (!ec) (void)ip::make_address_v4(target, ec);
    if (!ec) out.source = a;
  } else if (words[1] == "TCP6") {
    auto a = ip::make_address_v6(source, ec);
    if (!ec) (void)ip::make_address_v6(target, ec);
    if (!ec) out.source = a;
  } else {
    return invalid("PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN");
  }
  if (ec) return invalid("PROXY v1 address is malformed");
  if (!is_port(words[4]) || !is_port(words[5])) return invalid("PROXY v1 port is malformed");
  return out;
}

parsed parse_v2(std::span<const std::uint8_t> data) {
  const auto seen = std::min(data.size(), v2_signature.size());
  if (!std::equal(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(seen),
                  v2_signature.begin()))
    return invalid("not a PROXY protocol header");
  if (data.size() < 16) return {state::need_more};
  const std::uint8_t version = data[12] >> 4, command = data[12] & 0x0f;
  if (version != 2) return invalid("PROXY v2 header of an unknown version");
  if (command > 1) return invalid("PROXY v2 command is neither LOCAL nor PROXY");
  const std::size_t length = 16 + (std::size_t{data[14]} << 8 | data[15]);
  if (length > max_header) return invalid("PROXY v2 header longer than 1040 bytes");
  if (data.size() < length) return {state::need_more};
  parsed out{state::complete, length};
  if (command == 0) return out;  // LOCAL: the proxy's own connection
  const auto* address = data.data() + 16;
  switch (data[13] >> 4) {
    case 1:  // AF_INET: source, destination, two ports
      if (length - 16 < 12) return invalid("PROXY v2 IPv4 addresses are cut short");
      out.source = ip::address_v4({address[0], address[1], address[2], address[3]});
      break;
    case 2: {  // AF_INET6
      if (length - 16 < 36) return invalid("PROXY v2 IPv6 addresses are cut short");
      ip::address_v6::bytes_type bytes;
      std::copy_n(address, bytes.size(), bytes.begin());
      out.source = ip::address_v6(bytes);
      break;
    }
    default:
      break;  // AF_UNSPEC, AF_UNIX: no address to use
  }
  return out;
}

}  // namespace

parsed parse(std::span<const std::uint8_t> data) {
  if (data.empty()) return {state::need_more};
  if (data[0] == v2_signature[0]) return parse_v2(data);
  return parse_v1({reinterpret_cast<const char*>(data.data()), data.size()});
}

}  // namespace valise::server::proxy_protocol
