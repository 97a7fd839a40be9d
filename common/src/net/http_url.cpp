#include "net/http_url.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>

#include "valise/common/ascii.hpp"
#include "valise/common/https_client.hpp"

namespace valise::common::detail {

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

bool plain_host_name(std::string_view host) {
  if (host.empty()) return false;
  for (const char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

result<server_address> parse_server_url(std::string_view url) {
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return make_error_code(http_errc::invalid_url);
  const boost::urls::url_view& u = *parsed;
  if (ascii_lower(u.scheme()) != "https" || !u.has_authority() || u.has_userinfo() ||
      u.has_fragment() || u.host_type() == boost::urls::host_type::none ||
      u.host_type() == boost::urls::host_type::ipvfuture) {
    return make_error_code(http_errc::invalid_url);
  }
  server_address out;
  switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
      out.host = u.host_ipv4_address().to_string();
      out.host_is_ip = true;
      break;
    case boost::urls::host_type::ipv6:
      out.host = u.host_ipv6_address().to_string();
      out.host_is_ip = true;
      break;
    default:
      out.host = ascii_lower(u.host_name());  // percent-decoded
      if (!plain_host_name(out.host)) return make_error_code(http_errc::invalid_url);
      break;
  }
  if (out.host.empty()) return make_error_code(http_errc::invalid_url);
  if (u.has_port()) {
    const auto port = parse_port(u.port());
    if (!port) return make_error_code(http_errc::invalid_url);
    out.port = *port;
  }
  if (u.has_query()) return make_error_code(http_errc::invalid_url);
  out.prefix = std::string(u.encoded_path());
  while (!out.prefix.empty() && out.prefix.back() == '/') out.prefix.pop_back();
  const std::string shown_host =
      u.host_type() == boost::urls::host_type::ipv6 ? "[" + out.host + "]" : out.host;
  out.origin = "https://" + shown_host + ":" + std::to_string(out.port);
  return out;
}

result<std::string> request_target(const server_address& server, std::string_view target) {
  if (target.starts_with("/")) {
    if (target.starts_with("//")) return make_error_code(http_errc::other_origin);
    return server.prefix + std::string(target);
  }
  const auto other = parse_server_url(target.substr(0, target.find('?')));
  if (!other) return other.error();
  if (other->origin != server.origin) return make_error_code(http_errc::other_origin);
  const auto parsed = boost::urls::parse_absolute_uri(target);
  if (!parsed) return make_error_code(http_errc::invalid_url);
  std::string out(parsed->encoded_path());
  if (out.empty()) out = "/";
  if (parsed->has_query()) out += "?" + std::string(parsed->encoded_query());
  return out;
}

}  // namespace valise::common::detail
