// The HTTP client's error categories: transport failures, and HTTP statuses
// that a caller did not expect.
#include <boost/beast/http/status.hpp>
#include <string>

#include "valise/common/ascii.hpp"
#include "valise/common/https_client.hpp"

namespace valise::common {
namespace {

class http_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "https"; }
  std::string message(int value) const override {
    switch (static_cast<http_errc>(value)) {
      case http_errc::invalid_url:
        return "not an https:// URL";
      case http_errc::other_origin:
        return "the server pointed to another server";
      case http_errc::proxy_unsupported:
        return "only http:// proxies are supported (not https:// or SOCKS); the connection to the "
               "server through it is TLS all the same";
      case http_errc::ca_file_invalid:
        return "cannot load the CA certificates (expected PEM)";
      case http_errc::client_cert_invalid:
        return "cannot load the client certificate and key (expected PEM, matching)";
      case http_errc::host_not_found:
        return "host not found";
      case http_errc::connection_refused:
        return "connection refused";
      case http_errc::unreachable:
        return "cannot connect";
      case http_errc::timeout:
        return "timed out";
      case http_errc::tls_failed:
        return "TLS handshake failed";
      case http_errc::certificate_untrusted:
        return "the server's certificate is not trusted";
      case http_errc::certificate_name_mismatch:
        return "the server's certificate is for another host name";
      case http_errc::certificate_expired:
        return "the server's certificate is expired or not yet valid";
      case http_errc::certificate_invalid:
        return "the server's certificate is invalid";
      case http_errc::connection_closed:
        return "the server closed the connection";
      case http_errc::protocol_error:
        return "invalid HTTP response";
      case http_errc::response_too_large:
        return "response too large";
      case http_errc::proxy_url_invalid:
        return "not a proxy URL: expected http://[USER:PASSWORD@]HOST[:PORT]";
      case http_errc::proxy_unreachable:
        return "cannot connect to the proxy";
      case http_errc::proxy_refused:
        return "the proxy refused to connect to the server";
      case http_errc::fingerprint_invalid:
        return "not a SHA-256 fingerprint: expected 64 hex digits, optionally SHA256: and colons";
      case http_errc::unverified_with_credentials:
        return "a token or client certificate is never sent to an unverified server";
    }
    return "unknown HTTPS error";
  }
};

class status_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "http-status"; }
  std::string message(int value) const override {
    const auto reason =
        boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(value));
    std::string out = "HTTP " + std::to_string(value);
    if (!reason.empty() && reason != "<unknown-status>") out += " " + std::string(reason);
    return out;
  }
};

}  // namespace

const std::error_category& http_category() noexcept {
  static const http_error_category category;
  return category;
}

std::error_code make_error_code(http_errc e) noexcept {
  return {static_cast<int>(e), http_category()};
}

bool is_certificate_error(std::error_code ec) noexcept {
  return ec == http_errc::certificate_untrusted || ec == http_errc::certificate_name_mismatch ||
         ec == http_errc::certificate_expired || ec == http_errc::certificate_invalid;
}

const std::error_category& status_category() noexcept {
  static const status_error_category category;
  return category;
}

std::error_code make_status_error(unsigned status) noexcept {
  return {static_cast<int>(status), status_category()};
}

std::optional<std::string_view> http_response::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (ascii_iequals(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

}  // namespace valise::common
