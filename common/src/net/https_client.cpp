// The HTTPS client over Boost.Beast. Every step is an asynchronous operation
// run to completion on a private io_context: that is what gives each connect,
// handshake, read and write a deadline (beast::tcp_stream timeouts apply to
// asynchronous operations only), while callers see a plain synchronous API.
// Through a proxy, the TCP connection goes to the proxy, a CONNECT exchange
// turns it into a tunnel, and TLS to the server runs over it unchanged.
#include "valise/common/https_client.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <poll.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <optional>
#include <vector>

#include "net/http_proxy.hpp"
#include "net/http_url.hpp"
#include "valise/crypto/secret.hpp"

namespace valise::common {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using tls_stream = ssl::stream<beast::tcp_stream>;

namespace {

// Large body writes, so that TLS records are full and system calls few.
constexpr std::size_t stream_chunk = 512u << 10;
constexpr std::size_t header_limit = 64u << 10;

std::error_code errc(http_errc e) {
  return make_error_code(e);
}

// A failure while exchanging a message, in our terms.
std::error_code map_io_error(const boost::system::error_code& ec) {
  if (ec == beast::error::timeout) return errc(http_errc::timeout);
  if (ec == http::error::body_limit || ec == http::error::header_limit) {
    return errc(http_errc::response_too_large);
  }
  // Any other Beast HTTP parse error: the peer does not speak HTTP/1.1 properly.
  if (ec.category() == beast::http::make_error_code(http::error::end_of_stream).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return errc(http_errc::protocol_error);
  }
  return errc(http_errc::connection_closed);
}

std::error_code map_verify_result(long result) {
  switch (result) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return errc(http_errc::certificate_name_mismatch);
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return errc(http_errc::certificate_expired);
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
      return errc(http_errc::certificate_untrusted);
    default:
      return errc(http_errc::certificate_invalid);
  }
}

bool readable_now(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;  // data, EOF or error: not an idle connection
}

// A BIO that appends what OpenSSL writes to a vector: a request body's
// records gather there and go out in one send per chunk. Through asio's
// stream each 16 KiB record would be copied twice (its BIO pair) and sent
// with a system call of its own.
int gather_write(BIO* bio, const char* data, int length) {
  auto& out = *static_cast<std::vector<std::uint8_t>*>(BIO_get_data(bio));
  out.insert(out.end(), data, data + length);
  return length;
}

long gather_ctrl(BIO*, int command, long, void*) {
  return command == BIO_CTRL_FLUSH ? 1 : 0;
}

BIO_METHOD* gather_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "valise-gather");
    BIO_meth_set_write(m, gather_write);
    BIO_meth_set_ctrl(m, gather_ctrl);
    return m;
  }();
  return method;
}

// While it lives, the SSL object writes records into `out` instead of
// asio's BIO pair (which holds nothing at that point: every asio write
// completes once its output is sent). Reads still go through asio.
class gathered_writes {
 public:
  gathered_writes(SSL* ssl, std::vector<std::uint8_t>& out)
      : ssl_(ssl), asio_bio_(SSL_get_wbio(ssl)) {
    BIO* gather = BIO_new(gather_method());
    BIO_set_data(gather, &out);
    BIO_set_init(gather, 1);
    // Drops the SSL object's write reference to asio's BIO; its read
    // reference keeps it alive.
    SSL_set0_wbio(ssl_, gather);
  }
  gathered_writes(const gathered_writes&) = delete;
  gathered_writes& operator=(const gathered_writes&) = delete;
  ~gathered_writes() {
    BIO_up_ref(asio_bio_);           // the write reference again
    SSL_set0_wbio(ssl_, asio_bio_);  // frees the gathering BIO
  }

 private:
  SSL* ssl_;
  BIO* asio_bio_;
};

http_response to_response(const http::response_header<>& header, std::string body) {
  http_response out;
  out.status = header.result_int();
  for (const auto& field : header) {
    out.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  out.body = std::move(body);
  return out;
}

}  // namespace

struct https_client::impl {
  https_options options;
  detail::server_address server;
  std::optional<detail::proxy_address> proxy;
  asio::io_context ioc{1};
  ssl::context ctx{ssl::context::tls_client};
  std::optional<tls_stream> stream;
  beast::flat_buffer buffer;
  bool used = false;  // the connection has carried a whole exchange
  std::string detail;

  impl() = default;
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;
  ~impl() {
    crypto::secure_zero(options.bearer_token.data(), options.bearer_token.size());
    crypto::secure_zero(options.proxy.url.data(), options.proxy.url.size());  // credentials
  }

  // Runs one asynchronous operation to completion; returns its error.
  template <class Initiate>
  boost::system::error_code run(Initiate&& initiate) {
    boost::system::error_code result;
    initiate([&result](boost::system::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  beast::tcp_stream& tcp() { return beast::get_lowest_layer(*stream); }

  void drop() {
    if (stream) {
      boost::system::error_code ignored;
      tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
      tcp().close();
    }
    stream.reset();
    buffer.clear();
    used = false;
  }

  result<tcp::resolver::results_type> resolve(const std::string& host, std::uint16_t port);
  std::error_code open_tunnel();
  std::error_code connect();
  std::error_code ensure_connected();
  http::request<http::empty_body> make_header(const http_request& request,
                                              const std::string& target);
  result<http_response> read_response(bool head_request, bool* got_some);
  result<http_response> exchange(const http_request& request, bool* retryable);
};

result<tcp::resolver::results_type> https_client::impl::resolve(const std::string& host,
                                                                std::uint16_t port) {
  // Name resolution has no built-in deadline: a timer cancels it.
  tcp::resolver resolver(ioc);
  asio::steady_timer timer(ioc);
  tcp::resolver::results_type endpoints;
  boost::system::error_code resolve_ec;
  bool timed_out = false;
  resolver.async_resolve(host, std::to_string(port),
                         [&](boost::system::error_code ec, tcp::resolver::results_type r) {
                           resolve_ec = ec;
                           endpoints = std::move(r);
                           timer.cancel();
                         });
  timer.expires_after(options.connect_timeout);
  timer.async_wait([&](boost::system::error_code ec) {
    if (!ec) {
      timed_out = true;
      resolver.cancel();
    }
  });
  ioc.restart();
  ioc.run();
  if (timed_out) return errc(http_errc::timeout);
  if (resolve_ec) return errc(http_errc::host_not_found);
  return endpoints;
}

// CONNECT over the fresh TCP connection to the proxy, up to its 2xx answer.
std::error_code https_client::impl::open_tunnel() {
  const std::string proxy_name = "the proxy " + proxy->shown;
  std::string request = detail::connect_request(server, *proxy, options.user_agent);
  tcp().expires_after(options.connect_timeout);
  auto ec = run(
      [&](auto handler) { asio::async_write(tcp(), asio::buffer(request), std::move(handler)); });
  crypto::secure_zero(request.data(), request.size());  // Proxy-Authorization

  std::string head;
  if (!ec) {
    tcp().expires_after(options.connect_timeout);
    ec = run([&](auto handler) {
      asio::async_read_until(tcp(), asio::dynamic_buffer(head, detail::proxy_head_limit),
                             "\r\n\r\n", std::move(handler));
    });
  }
  if (ec == beast::error::timeout) {
    detail = proxy_name + " did not answer CONNECT in time";
    return errc(http_errc::timeout);
  }
  if (ec == asio::error::not_found) {
    detail = proxy_name + " answered with a head over " +
             std::to_string(detail::proxy_head_limit >> 10) + " KiB";
    return errc(http_errc::protocol_error);
  }
  const auto status = detail::parse_proxy_status(head);
  if (ec && !status) {
    detail = proxy_name + " closed the connection without answering CONNECT";
    return errc(http_errc::proxy_refused);
  }
  if (!status) {
    detail = proxy_name + " did not answer CONNECT in HTTP";
    return errc(http_errc::protocol_error);
  }
  if (status->code < 200 || status->code >= 300) {
    detail = detail::describe_refusal(*status, *proxy, server);
    return errc(http_errc::proxy_refused);
  }
  // A 2xx answer has no body (RFC 9110 9.3.6): the server speaks only after
  // our ClientHello, so anything more is not from the server.
  if (ec || head.find("\r\n\r\n") + 4 != head.size()) {
    detail = proxy_name + " sent data before the tunnel was used";
    return errc(http_errc::protocol_error);
  }
  return {};
}

std::error_code https_client::impl::connect() {
  drop();
  detail.clear();
  auto endpoints = proxy ? resolve(proxy->host, proxy->port) : resolve(server.host, server.port);
  if (!endpoints) {
    if (!proxy) return endpoints.error();
    detail =
        proxy->shown + ": " +
        (endpoints.error() == http_errc::timeout ? "name resolution timed out" : "host not found");
    return errc(http_errc::proxy_unreachable);
  }

  stream.emplace(ioc, ctx);
  SSL* ssl_handle = stream->native_handle();
  // No SNI for addresses (RFC 6066); the certificate must name the address.
  if (!server.host_is_ip) SSL_set_tlsext_host_name(ssl_handle, server.host.c_str());
  if (options.verify_peer && server.host_is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), server.host.c_str());
  } else if (options.verify_peer) {
    SSL_set1_host(ssl_handle, server.host.c_str());
  }

  tcp().expires_after(options.connect_timeout);
  auto ec = run([&](auto handler) { tcp().async_connect(*endpoints, std::move(handler)); });
  if (ec) {
    const bool refused = ec == asio::error::connection_refused;
    const bool slow = ec == beast::error::timeout;
    drop();
    if (proxy) {
      detail = proxy->shown + ": " +
               (slow      ? "timed out"
                : refused ? "connection refused"
                          : ec.message());
      return errc(http_errc::proxy_unreachable);
    }
    return errc(slow      ? http_errc::timeout
                : refused ? http_errc::connection_refused
                          : http_errc::unreachable);
  }
  tcp().socket().set_option(tcp::no_delay(true), ec);
  if (proxy) {
    if (const auto tunnel = open_tunnel()) {
      drop();
      return tunnel;
    }
  }

  tcp().expires_after(options.connect_timeout);
  ec = run(
      [&](auto handler) { stream->async_handshake(ssl::stream_base::client, std::move(handler)); });
  if (ec) {
    const long verify = SSL_get_verify_result(ssl_handle);
    std::error_code out;
    if (ec == beast::error::timeout) {
      out = errc(http_errc::timeout);
    } else if (verify != X509_V_OK) {
      detail = X509_verify_cert_error_string(verify);
      out = map_verify_result(verify);
    } else {
      detail = ec.message();
      out = errc(http_errc::tls_failed);
    }
    drop();
    return out;
  }
  return {};
}

std::error_code https_client::impl::ensure_connected() {
  // A kept-alive connection the server has closed (idle timeout) shows as
  // readable: reconnect rather than lose the next request on it.
  if (stream && used && !readable_now(tcp().socket().native_handle())) return {};
  return connect();
}

http::request<http::empty_body> https_client::impl::make_header(const http_request& request,
                                                                const std::string& target) {
  http::request<http::empty_body> req;
  const auto verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown) {
    req.method_string(request.method);
  } else {
    req.method(verb);
  }
  req.target(target);
  req.version(11);
  const bool ipv6 = server.host.find(':') != std::string::npos;
  req.set(http::field::host,
          (ipv6 ? "[" + server.host + "]" : server.host) + ":" + std::to_string(server.port));
  req.set(http::field::user_agent, options.user_agent);
  if (!options.bearer_token.empty()) {
    std::string credentials = "Bearer " + options.bearer_token;
    req.set(http::field::authorization, credentials);
    crypto::secure_zero(credentials.data(), credentials.size());
  }
  for (const auto& h : request.headers) req.insert(h.name, h.value);
  req.keep_alive(true);
  return req;
}

result<http_response> https_client::impl::read_response(bool head_request, bool* got_some) {
  http::response_parser<http::string_body> parser;
  parser.header_limit(header_limit);
  parser.body_limit(options.response_limit);
  if (head_request) parser.skip(true);  // a HEAD response has headers only
  tcp().expires_after(options.io_timeout);
  const auto ec =
      run([&](auto handler) { http::async_read(*stream, buffer, parser, std::move(handler)); });
  if (got_some) *got_some = parser.got_some();
  if (ec) {
    drop();
    return map_io_error(ec);
  }
  const bool keep = parser.get().keep_alive();
  auto out = to_response(parser.get().base(), std::move(parser.get().body()));
  if (keep) {
    used = true;
  } else {
    drop();
  }
  return out;
}

result<http_response> https_client::impl::exchange(const http_request& request, bool* retryable) {
  *retryable = false;
  auto target = detail::request_target(server, request.target);
  if (!target) return target.error();
  if (const auto ec = ensure_connected()) return ec;
  const bool reused = used;

  const auto header = make_header(request, *target);
  http::request<http::string_body> req(header);
  req.body() = request.body;
  if (!request.body.empty() && req.find(http::field::content_type) == req.end()) {
    req.set(http::field::content_type, "application/json");
  }
  req.prepare_payload();
  tcp().expires_after(options.io_timeout);
  auto ec = run([&](auto handler) { http::async_write(*stream, req, std::move(handler)); });
  if (ec) {
    drop();
    // Not sent on a connection the server had just closed: safe to send again.
    *retryable = reused && ec != beast::error::timeout;
    return map_io_error(ec);
  }
  bool got_some = false;
  auto response = read_response(req.method() == http::verb::head, &got_some);
  if (!response && reused && !got_some && response.error() == http_errc::connection_closed) {
    // The server closed the idle connection as the request arrived. Only
    // idempotent requests are sent again: a POST may have been acted upon.
    const auto m = req.method();
    *retryable = m == http::verb::get || m == http::verb::head || m == http::verb::delete_ ||
                 m == http::verb::put || m == http::verb::options;
  }
  return response;
}

// ---- https_client -----------------------------------------------------------

https_client::https_client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
https_client::https_client(https_client&&) noexcept = default;
https_client& https_client::operator=(https_client&&) noexcept = default;
https_client::~https_client() {
  if (impl_) impl_->drop();
}

result<https_client> https_client::create(https_options options) {
  auto p = std::make_unique<impl>();
  // Held by impl from here on, so that an early return still wipes the token.
  p->options = std::move(options);
  const https_options& o = p->options;
  auto server = detail::parse_server_url(o.base_url);
  if (!server) return server.error();
  p->server = std::move(*server);

  if (!o.proxy.url.empty()) {
    auto proxy = detail::parse_proxy_url(o.proxy.url);
    if (!proxy) return proxy.error();
    p->proxy = std::move(*proxy);
  }

  SSL_CTX* ctx = p->ctx.native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Unverified only to fetch a CA for checking against a fingerprint: nothing
  // secret may go to a server that was not verified.
  if (!o.verify_peer &&
      (!o.bearer_token.empty() || !o.client_cert_file.empty() || !o.client_key_file.empty())) {
    return errc(http_errc::unverified_with_credentials);
  }
  p->ctx.set_verify_mode(o.verify_peer ? ssl::verify_peer : ssl::verify_none);
  boost::system::error_code ec;
  if (!o.verify_peer) {
    // No trust store to load: the caller checks what it fetches.
  } else if (o.ca_file.empty()) {
    p->ctx.set_default_verify_paths(ec);
    if (ec) return errc(http_errc::ca_file_invalid);
  } else {
    if (::access(o.ca_file.c_str(), R_OK) != 0)
      return std::error_code(errno, std::generic_category());
    p->ctx.load_verify_file(o.ca_file, ec);
    if (ec) return errc(http_errc::ca_file_invalid);
    // Names the pinned CA in the ClientHello (TLS 1.3 certificate_authorities):
    // a valise-server that serves a public CA's certificate to browsers
    // answers with the certificate its own CA signed.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.ca_file.c_str()))
      SSL_CTX_set0_CA_list(ctx, names);
  }
  if (!o.client_cert_file.empty() || !o.client_key_file.empty()) {
    for (const auto* file : {&o.client_cert_file, &o.client_key_file}) {
      if (::access(file->c_str(), R_OK) != 0)
        return std::error_code(errno, std::generic_category());
    }
    p->ctx.use_certificate_chain_file(o.client_cert_file, ec);
    if (!ec) p->ctx.use_private_key_file(o.client_key_file, ssl::context::pem, ec);
    if (ec || SSL_CTX_check_private_key(ctx) != 1) return errc(http_errc::client_cert_invalid);
  }
  return https_client(std::move(p));
}

result<http_response> https_client::send(const http_request& request) {
  bool retryable = false;
  auto response = impl_->exchange(request, &retryable);
  if (!response && retryable) response = impl_->exchange(request, &retryable);
  return response;
}

result<http_response> https_client::send_stream(const http_request& request,
                                                crypto::byte_source& body, std::uint64_t length) {
  auto& d = *impl_;
  auto target = detail::request_target(d.server, request.target);
  if (!target) return target.error();
  if (const auto ec = d.ensure_connected()) return ec;

  http::request<http::buffer_body> req(d.make_header(request, *target));
  req.content_length(length);
  req.body().data = nullptr;
  req.body().more = true;
  http::request_serializer<http::buffer_body> serializer(req);
  d.tcp().expires_after(d.options.io_timeout);
  auto ec = d.run(
      [&](auto handler) { http::async_write_header(*d.stream, serializer, std::move(handler)); });

  std::vector<std::uint8_t> chunk(stream_chunk);
  std::vector<std::uint8_t> records;
  records.reserve(stream_chunk + stream_chunk / 16);
  std::optional<gathered_writes> gathering;
  if (!ec) gathering.emplace(d.stream->native_handle(), records);
  // Half a request was sent: the connection cannot carry another.
  const auto fail = [&](std::error_code e) {
    gathering.reset();  // before the SSL object goes
    d.drop();
    return e;
  };
  std::uint64_t left = length;
  while (!ec && left > 0) {
    // Fill the whole chunk (a file may return less per read) before writing.
    std::size_t filled = 0;
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk.size()));
    while (filled < want) {
      auto n = body.read(crypto::mutable_bytes(chunk.data() + filled, want - filled));
      if (!n) return fail(n.error());
      // The source ended early (file shrank).
      if (*n == 0) return fail(std::make_error_code(std::errc::io_error));
      filled += *n;
    }
    left -= filled;
    // The head said Content-Length: the body is the bytes, written past
    // the serializer.
    for (std::size_t at = 0; at < filled;) {
      std::size_t n = 0;
      ERR_clear_error();
      if (SSL_write_ex(d.stream->native_handle(), chunk.data() + at, filled - at, &n) != 1)
        return fail(errc(http_errc::connection_closed));
      at += n;
    }
    d.tcp().expires_after(d.options.io_timeout);
    ec = d.run([&](auto handler) {
      asio::async_write(d.tcp(), asio::buffer(records), std::move(handler));
    });
    records.clear();
  }
  gathering.reset();
  if (ec) {
    // The server may have answered (and closed) before taking the whole body,
    // e.g. to refuse it: its response says why, so try to read it.
    if (d.stream && ec != beast::error::timeout) {
      auto early = d.read_response(false, nullptr);
      d.drop();
      if (early) return early;
    }
    d.drop();
    return map_io_error(ec);
  }
  return d.read_response(false, nullptr);
}

result<http_response> https_client::download(const http_request& request, crypto::byte_sink& sink) {
  auto& d = *impl_;
  auto target = detail::request_target(d.server, request.target);
  if (!target) return target.error();
  if (const auto ec = d.ensure_connected()) return ec;

  http::request<http::empty_body> req(d.make_header(request, *target));
  d.tcp().expires_after(d.options.io_timeout);
  auto ec = d.run([&](auto handler) { http::async_write(*d.stream, req, std::move(handler)); });
  if (ec) {
    d.drop();
    return map_io_error(ec);
  }
  http::response_parser<http::empty_body> head;
  head.header_limit(header_limit);
  // Beast checks Content-Length against the body limit (8 MB by default)
  // while reading the head: a download's size is for the sink to judge.
  head.body_limit(boost::none);
  d.tcp().expires_after(d.options.io_timeout);
  ec = d.run([&](auto handler) {
    http::async_read_header(*d.stream, d.buffer, head, std::move(handler));
  });
  if (ec) {
    d.drop();
    return map_io_error(ec);
  }
  const unsigned status = head.get().result_int();
  if (status < 200 || status >= 300) {
    // An error: its small JSON body, never passed to the sink.
    http::response_parser<http::string_body> parser(std::move(head));
    parser.body_limit(d.options.response_limit);
    d.tcp().expires_after(d.options.io_timeout);
    ec = d.run(
        [&](auto handler) { http::async_read(*d.stream, d.buffer, parser, std::move(handler)); });
    if (ec) {
      d.drop();
      return map_io_error(ec);
    }
    auto out = to_response(parser.get().base(), std::move(parser.get().body()));
    if (parser.get().keep_alive())
      d.used = true;
    else
      d.drop();
    return out;
  }

  http::response_parser<http::buffer_body> parser(std::move(head));
  parser.body_limit(boost::none);  // the sink decides what is too much
  std::vector<std::uint8_t> chunk(stream_chunk);
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    d.tcp().expires_after(d.options.io_timeout);
    ec = d.run(
        [&](auto handler) { http::async_read(*d.stream, d.buffer, parser, std::move(handler)); });
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      d.drop();
      return map_io_error(ec);
    }
    const std::size_t n = chunk.size() - parser.get().body().size;
    if (n > 0) {
      if (auto w = sink.write(crypto::bytes(chunk.data(), n)); !w) {
        d.drop();
        return w.error();
      }
    }
  }
  auto out = to_response(parser.get().base(), {});
  if (parser.get().keep_alive())
    d.used = true;
  else
    d.drop();
  return out;
}

const std::string& https_client::origin() const {
  return impl_->server.origin;
}

const std::string& https_client::last_error_detail() const {
  return impl_->detail;
}

void https_client::close() {
  impl_->drop();
}

}  // namespace valise::common
