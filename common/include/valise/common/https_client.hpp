// A small synchronous HTTPS client for the valise command and the agent: one
// origin (the collector server), one kept-alive connection reused across
// requests, directly or through an HTTP CONNECT proxy, peer verification on
// (off only to fetch a CA to pin), a deadline on every network step.
// Bodies are strings (JSON, capped) or streams (tus uploads, downloads), so a
// bundle of any size moves in bounded memory. Errors are codes (`http_errc`,
// or `status_category()` for an unexpected HTTP status); nothing throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "valise/crypto/io.hpp"

struct x509_st;  // OpenSSL's X509

namespace valise::common {

enum class http_errc {
  invalid_url = 1,            // not an absolute https:// URL
  other_origin,               // an absolute URL on another server than the base URL
  proxy_unsupported,          // a proxy URL scheme other than http:// (https://, socks5://)
  ca_file_invalid,            // --ca FILE unreadable or not PEM certificates
  client_cert_invalid,        // client certificate or key unreadable or not matching
  host_not_found,             // DNS
  connection_refused,         // nothing listens on that port
  unreachable,                // network or host unreachable, other connect failures
  timeout,                    // connect, handshake, read or write took too long
  tls_failed,                 // handshake failed for a reason other than the peer's certificate
  certificate_untrusted,      // the chain does not lead to a trusted CA (--ca, system store)
  certificate_name_mismatch,  // valid, but issued for another host name
  certificate_expired,        // outside its validity period
  certificate_invalid,        // any other verification failure
  connection_closed,          // the server closed the connection before the response ended
  protocol_error,             // not a valid HTTP response
  response_too_large,         // a string body over the caller's cap
  proxy_url_invalid,          // not http://[user:password@]host[:port]
  proxy_unreachable,          // cannot reach the proxy (DNS, refused, timed out): detail says which
  proxy_refused,              // the proxy answered CONNECT with a non-2xx status: detail has it
  fingerprint_invalid,        // not a SHA-256 certificate fingerprint
  unverified_with_credentials,  // verify_peer = false with a token or client certificate
};

const std::error_category& http_category() noexcept;
std::error_code make_error_code(http_errc e) noexcept;

// The peer's certificate was refused, whatever the reason.
bool is_certificate_error(std::error_code ec) noexcept;

// Codes whose value is an HTTP status (e.g. 401), for callers that turn an
// unexpected status into an error; message() is "HTTP 401 Unauthorized".
const std::error_category& status_category() noexcept;
std::error_code make_status_error(unsigned status) noexcept;

struct http_header {
  std::string name;
  std::string value;
};

struct http_response {
  unsigned status = 0;
  std::vector<http_header> headers;
  std::string body;  // empty for streamed (downloaded) bodies
  // First header of that name (case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const;
};

struct http_request {
  std::string method = "GET";
  // A path and query ("/api/v1/tickets?status=open", joined to the base URL's
  // path) or an absolute URL on the same origin as the base URL.
  std::string target;
  std::vector<http_header> headers;
  std::string body;  // sent with Content-Type: application/json unless a header says otherwise
};

// An HTTP CONNECT proxy between this host and the server (the agent behind a
// site proxy). url: "http://[user:password@]host[:port]" (port 80 if omitted;
// user and password percent-encoded, sent as Proxy-Authorization: Basic). The
// TLS session runs through the tunnel to the server itself, verified as when
// direct. https:// proxies (TLS to the proxy) are not supported. Empty: direct.
// The url holds credentials: it is never logged and is wiped with the client.
struct proxy_options {
  std::string url;
};

// The proxy for a connection to `host` (a DNS name or IP address, as in the
// server URL) from the environment, as curl reads it: $https_proxy, else
// $HTTPS_PROXY; a value without a scheme is taken as http://. Returns "" when
// none is set or when $no_proxy (else $NO_PROXY) covers the host: a comma
// list of host names ("example.com" also covers its subdomains; a leading dot
// is the same), IP addresses (exact; no CIDR ranges), or "*" for all; a port
// in an entry is ignored. Loopback is not implicitly excluded: list localhost
// and 127.0.0.1 in no_proxy for a local server.
std::string proxy_from_environment(std::string_view host);

struct https_options {
  std::string base_url;          // https://host[:port][/prefix]
  std::string ca_file;           // PEM bundle; empty: the system trust store
  std::string client_cert_file;  // PEM chain, for mutual TLS (agent)
  std::string client_key_file;   // PEM key of client_cert_file
  std::string bearer_token;      // sent as Authorization on every request; never logged
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(15)};  // resolve+connect+TLS
  std::chrono::milliseconds io_timeout{std::chrono::seconds(60)};       // each read or write step
  std::size_t response_limit = 4u << 20;                                // string bodies
  proxy_options proxy;
  std::string user_agent = "valise";
  // false only to download the server's CA certificate for checking against
  // an operator-given fingerprint (certificate_sha256); never for anything
  // else. It skips chain and host-name verification, so create() refuses it
  // with a bearer token or a client certificate (unverified_with_credentials).
  bool verify_peer = true;
};

// Lowercase hex SHA-256 of the DER encoding of the first certificate in a PEM
// text (as `openssl x509 -noout -fingerprint -sha256` shows it, without the
// colons); "" if the text holds no valid certificate.
std::string certificate_sha256(std::string_view pem);
// The same of a certificate OpenSSL holds (a TLS peer's, one loaded from a
// file); "" for none.
std::string certificate_sha256(const x509_st* cert);

// A SHA-256 fingerprint as an operator types it: "SHA256:AB:CD:...",
// "ab:cd:...", 64 hex digits of either case, or openssl's "sha256
// Fingerprint=AB:..." line; surrounding blanks ignored. Returns the 64
// lowercase hex digits certificate_sha256 gives, or fingerprint_invalid.
result<std::string> parse_sha256_fingerprint(std::string_view text);

class https_client {
 public:
  // Checks the options (URL, CA file, client certificate); connects lazily.
  static result<https_client> create(https_options options);
  https_client(https_client&&) noexcept;
  https_client& operator=(https_client&&) noexcept;
  ~https_client();

  // A request with a string body and a response read whole (up to
  // response_limit). Any status is a successful result; a request on a kept-
  // alive connection that the server had closed is sent again once.
  result<http_response> send(const http_request& request);

  // The body streamed from `body` (exactly `length` bytes, in large writes).
  // The source is read once: a failure is not retried here.
  result<http_response> send_stream(const http_request& request, crypto::byte_source& body,
                                    std::uint64_t length);

  // A 2xx response body is streamed into `sink`; other statuses are read as a
  // string (for their JSON error) and not passed to the sink.
  result<http_response> download(const http_request& request, crypto::byte_sink& sink);

  // "https://host:port", for messages.
  const std::string& origin() const;
  // After a certificate error: OpenSSL's reason ("certificate has expired");
  // after a TLS or proxy error, what happened ("the proxy answered 407 ...").
  const std::string& last_error_detail() const;
  // Closes the connection (the next request reconnects).
  void close();

 private:
  struct impl;
  explicit https_client(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace valise::common

template <>
struct std::is_error_code_enum<valise::common::http_errc> : std::true_type {};
