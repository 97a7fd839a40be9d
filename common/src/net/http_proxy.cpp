#include "net/http_proxy.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <cstdlib>

#include "net/base64.hpp"
#include "valise/common/ascii.hpp"
#include "valise/common/https_client.hpp"
#include "valise/crypto/secret.hpp"

namespace valise::common {
namespace detail {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// What may go into a header line: no control characters (no CR or LF).
std::string header_text(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out += c;
  }
  return out;
}

bool digits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

proxy_address::~proxy_address() {
  crypto::secure_zero(user.data(), user.size());
  crypto::secure_zero(password.data(), password.size());
}

result<proxy_address> parse_proxy_url(std::string_view url) {
  const auto invalid = make_error_code(http_errc::proxy_url_invalid);
  // "proxy:3128" would parse as scheme "proxy": a scheme is required here.
  if (url.find("://") == std::string_view::npos) return invalid;
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return invalid;
  const boost::urls::url_view& u = *parsed;
  if (ascii_lower(u.scheme()) != "http") return make_error_code(http_errc::proxy_unsupported);
  const auto path = u.encoded_path();
  if (!u.has_authority() || u.has_query() || u.has_fragment() || (!path.empty() && path != "/")) {
    return invalid;
  }
  proxy_address out;
  switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
      out.host = u.host_ipv4_address().to_string();
      break;
    case boost::urls::host_type::ipv6:
      out.host = u.host_ipv6_address().to_string();
      break;
    case boost::urls::host_type::name:
      out.host = ascii_lower(u.host_name());
      if (!plain_host_name(out.host)) return invalid;
      break;
    default:
      return invalid;
  }
  if (u.has_port()) {
    const auto port = parse_port(u.port());
    if (!port) return invalid;
    out.port = *port;
  }
  if (u.has_userinfo()) {
    out.has_credentials = true;
    out.user = u.user();
    out.password = u.password();
  }
  const bool ipv6 = u.host_type() == boost::urls::host_type::ipv6;
  out.shown = (ipv6 ? "[" + out.host + "]" : out.host) + ":" + std::to_string(out.port);
  return out;
}

std::string authority(const server_address& server) {
  const bool ipv6 = server.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + server.host + "]" : server.host) + ":" + std::to_string(server.port);
}

std::string connect_request(const server_address& server, const proxy_address& proxy,
                            std::string_view user_agent) {
  const std::string target = authority(server);
  std::string out = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n";
  if (!user_agent.empty()) out += "User-Agent: " + header_text(user_agent) + "\r\n";
  if (proxy.has_credentials) {
    std::string pair = proxy.user + ":" + proxy.password;
    std::string encoded = base64(pair);
    out += "Proxy-Authorization: Basic " + encoded + "\r\n";
    crypto::secure_zero(pair.data(), pair.size());
    crypto::secure_zero(encoded.data(), encoded.size());
  }
  out += "\r\n";
  return out;
}

std::optional<proxy_status> parse_proxy_status(std::string_view head) {
  const auto line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  // "HTTP/1.x NNN[ reason]"
  if (line.size() < 12 || !line.starts_with("HTTP/1.") || !digits(line.substr(7, 1)) ||
      line[8] != ' ' || !digits(line.substr(9, 3)) || (line.size() > 12 && line[12] != ' ')) {
    return std::nullopt;
  }
  proxy_status out;
  std::from_chars(line.data() + 9, line.data() + 12, out.code);
  if (out.code < 100) return std::nullopt;
  constexpr std::size_t reason_limit = 80;
  for (const char c : line.substr(std::min<std::size_t>(line.size(), 13))) {
    if (out.reason.size() == reason_limit) break;
    out.reason += c >= 0x20 && c < 0x7f ? c : '?';
  }
  return out;
}

std::string describe_refusal(const proxy_status& status, const proxy_address& proxy,
                             const server_address& server) {
  std::string answer = "the proxy " + proxy.shown + " answered " + std::to_string(status.code);
  if (!status.reason.empty()) answer += " " + status.reason;
  if (status.code == 407) {
    return answer + (proxy.has_credentials
                         ? ": it refused the user name and password of the proxy URL"
                         : ": it needs credentials, give them in the proxy URL "
                           "(http://USER:PASSWORD@HOST:PORT)");
  }
  if (status.code == 403) return answer + ": it does not allow connecting to " + authority(server);
  if (status.code == 502 || status.code == 503 || status.code == 504) {
    return answer + ": it could not reach " + authority(server);
  }
  return answer;
}

bool no_proxy_matches(std::string_view list, std::string_view host) {
  std::string wanted = ascii_lower(host);
  if (wanted.size() > 2 && wanted.front() == '[' && wanted.back() == ']') {
    wanted = wanted.substr(1, wanted.size() - 2);
  }
  while (!wanted.empty() && wanted.back() == '.') wanted.pop_back();
  if (wanted.empty()) return false;
  const bool ip = wanted.find(':') != std::string::npos ||
                  wanted.find_first_not_of("0123456789.") == std::string::npos;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string entry = ascii_lower(trim(list.substr(0, comma)));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (entry == "*") return true;
    if (entry.starts_with('[')) {
      entry = entry.substr(1, entry.find(']') - 1);  // "[::1]" or "[::1]:443"
    } else if (const auto colon = entry.find(':');
               colon != std::string::npos && entry.find(':', colon + 1) == std::string::npos) {
      entry.resize(colon);  // "host:port": one colon, so not an IPv6 address
    }
    while (!entry.empty() && entry.front() == '.') entry.erase(0, 1);
    while (!entry.empty() && entry.back() == '.') entry.pop_back();
    if (entry.empty()) continue;
    if (wanted == entry) return true;
    // Domain suffixes only for names: "0.1" must not cover 127.0.0.1.
    if (!ip && wanted.size() > entry.size() && wanted.ends_with(entry) &&
        wanted[wanted.size() - entry.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

}  // namespace detail

std::string proxy_from_environment(std::string_view host) {
  const auto variable = [](const char* lower, const char* upper) -> std::string_view {
    const char* value = std::getenv(lower);
    if (!value || !*value) value = std::getenv(upper);
    return value ? value : "";
  };
  const std::string_view proxy = detail::trim(variable("https_proxy", "HTTPS_PROXY"));
  if (proxy.empty()) return {};
  if (detail::no_proxy_matches(variable("no_proxy", "NO_PROXY"), host)) return {};
  if (proxy.find("://") == std::string_view::npos) return "http://" + std::string(proxy);
  return std::string(proxy);
}

}  // namespace valise::common
