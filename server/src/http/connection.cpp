#include "http/connection.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <random>

#include "clock/clock.hpp"
#include "http/head_check.hpp"
#include "http/proxy_protocol.hpp"
#include "http/tls_stream.hpp"
#include "valise/common/https_client.hpp"

namespace valise::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t body_chunk = 256 * 1024;

// Sends a response; false if the connection is gone. Every response, errors
// included, gets the application's common headers (the security headers).
asio::awaitable<bool> send(tls_stream& stream, response& res, const request_handler& app,
                           std::chrono::seconds timeout) {
  app.add_common_headers(res.base());
  stream.expires_after(timeout);
  auto [ec, n] = co_await http::async_write(stream, res, use_tuple);
  co_return !ec;
}

// Streams a download's file (a stored bundle) as the response body.
asio::awaitable<bool> send_download(tls_stream& stream, download& d, const request_handler& app,
                                    std::chrono::seconds timeout) {
  http::response<http::buffer_body> res{d.head.result(), 11};
  for (const auto& field : d.head) res.set(field.name_string(), field.value());
  res.content_length(d.length);
  app.add_common_headers(res.base());
  res.body().data = nullptr;
  res.body().more = d.length > 0;
  http::response_serializer<http::buffer_body> serializer{res};
  stream.expires_after(timeout);
  if (auto [ec, n] = co_await http::async_write_header(stream, serializer, use_tuple); ec)
    co_return false;
  std::vector<std::uint8_t> buffer(body_chunk);
  std::uint64_t remaining = d.length;
  while (remaining > 0) {
    auto want = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, buffer.size()));
    auto got = d.body->read({buffer.data(), want});
    if (!got || *got == 0) {
      spdlog::error("download of a bundle stopped: {}",
                    got ? "file shorter than its record" : got.error().message());
      co_return false;  // the client sees a short body and retries with Range
    }
    remaining -= *got;
    res.body().data = buffer.data();
    res.body().size = *got;
    res.body().more = remaining > 0;
    stream.expires_after(timeout);
    auto [ec, n] = co_await http::async_write(stream, serializer, use_tuple);
    if (ec && ec != http::error::need_buffer) co_return false;
  }
  co_return true;
}

using body_result = std::pair<std::optional<response>, bool>;

// The receiver's answer once the body ended. It may take a while (merging
// a checksummed body), with no socket operation pending that could time out.
asio::awaitable<body_result> finish(tls_stream& stream, body_receiver& receiver) {
  stream.expires_never();
  co_return body_result{std::optional{co_await receiver.finish()}, true};
}

// A body of known length (every tus client sends Content-Length) is read
// straight into the receiver's buffer, without Beast's parser: the parser
// copies each TLS record through the flat buffer, and at 16 KiB a record that
// overhead was a third of the server's CPU time for an upload.
asio::awaitable<body_result> receive_sized_body(tls_stream& stream, beast::flat_buffer& buffer,
                                                std::uint64_t length, body_receiver& receiver,
                                                const request_handler& app,
                                                std::chrono::seconds timeout) {
  if (length > receiver.max_body())
    co_return body_result{std::optional{app.failure_response(http_failure::too_large,
                                                             "the body goes past Upload-Length")},
                          false};
  std::uint64_t remaining = length;
  // What arrived with the head.
  if (auto early = std::min<std::uint64_t>(buffer.size(), remaining); early > 0) {
    auto n = static_cast<std::size_t>(early);
    auto stop = receiver.write({static_cast<const std::uint8_t*>(buffer.data().data()), n});
    buffer.consume(n);
    remaining -= n;
    if (stop) co_return body_result{std::move(stop), false};
  }
  while (remaining > 0) {
    auto space = receiver.buffer();
    auto want = static_cast<std::size_t>(std::min<std::uint64_t>(remaining, space.size()));
    std::size_t filled = 0;
    boost::system::error_code ec;
    // The deadline is per read, as for every other read: a slow client that
    // keeps sending is not cut.
    while (filled < want && !ec) {
      stream.expires_after(timeout);
      auto [read_ec, n] = co_await stream.async_read_some(
          asio::buffer(space.data() + filled, want - filled), use_tuple);
      ec = read_ec;
      filled += n;
    }
    // Bytes that arrived before a failure are kept (tus resumes from them).
    if (filled > 0)
      if (auto stop = receiver.commit(filled)) co_return body_result{std::move(stop), false};
    if (ec) co_return body_result{std::nullopt, false};
    remaining -= filled;
  }
  co_return co_await finish(stream, receiver);
}

// Streams a request body into a receiver. Returns the response, and whether
// the body was read to its end (else the connection must close).
asio::awaitable<body_result> receive_body(tls_stream& stream, beast::flat_buffer& buffer,
                                          http::request_parser<http::empty_body>& head_parser,
                                          body_receiver& receiver, const request_handler& app,
                                          std::chrono::seconds timeout) {
  if (!head_parser.chunked() && head_parser.content_length())
    co_return co_await receive_sized_body(stream, buffer, *head_parser.content_length(), receiver,
                                          app, timeout);
  http::request_parser<http::buffer_body> parser{std::move(head_parser)};
  parser.body_limit(receiver.max_body());
  while (!parser.is_done()) {
    auto space = receiver.buffer();
    parser.get().body().data = space.data();
    parser.get().body().size = space.size();
    stream.expires_after(timeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple);
    if (ec == http::error::body_limit)
      co_return std::pair{std::optional{app.failure_response(http_failure::too_large,
                                                             "the body goes past Upload-Length")},
                          false};
    if (ec && ec != http::error::need_buffer) co_return std::pair{std::nullopt, false};
    std::size_t got = space.size() - parser.get().body().size;
    if (got == 0) continue;
    if (auto stop = receiver.commit(got)) co_return std::pair{std::move(stop), false};
  }
  co_return co_await finish(stream, receiver);
}

// After answering a request whose body was left unread (413, 415, 401 …):
// read and drop what the client is still sending, for a short while, so that
// it can finish writing and read the answer instead of a reset (what nginx
// calls a lingering close).
asio::awaitable<void> drain(tls_stream& stream) {
  constexpr std::size_t cap = 4u << 20;
  std::vector<char> sink(64 * 1024);
  stream.expires_after(std::chrono::seconds(2));
  for (std::size_t total = 0; total < cap;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), use_tuple);
    if (ec) break;
    total += n;
  }
}

// A connection in the open-connection gauges of /metrics: anonymous until
// promoted, taken out of whichever it is in when it ends.
class connection_gauge {
 public:
  explicit connection_gauge(connection_stats& stats) : stats_(stats) {
    stats_.connections_anonymous.fetch_add(1, std::memory_order_relaxed);
  }
  connection_gauge(const connection_gauge&) = delete;
  connection_gauge& operator=(const connection_gauge&) = delete;
  ~connection_gauge() { current().fetch_sub(1, std::memory_order_relaxed); }
  void authenticated() {
    if (authenticated_) return;
    stats_.connections_anonymous.fetch_sub(1, std::memory_order_relaxed);
    stats_.connections_authenticated.fetch_add(1, std::memory_order_relaxed);
    authenticated_ = true;
  }

 private:
  std::atomic<std::int64_t>& current() {
    return authenticated_ ? stats_.connections_authenticated : stats_.connections_anonymous;
  }
  connection_stats& stats_;
  bool authenticated_ = false;
};

// What one request came to.
struct exchange {
  std::optional<response> answer;
  std::optional<download> streamed;
  bool body_read = true;  // else the connection must close after answering
  bool lost = false;      // the client went away: nothing to answer
};

// Admits one request whose head was read, reads its body the way the
// application asks, and runs it.
asio::awaitable<exchange> handle(tls_stream& stream, beast::flat_buffer& buffer,
                                 http::request_parser<http::empty_body>& parser,
                                 request_handler& app, const connection_limits& limits,
                                 const std::string& peer_sha256, const client_info& from,
                                 connection_budget::slot& slot, connection_gauge& gauge) {
  exchange x;
  const bool has_body =
      (parser.content_length() && *parser.content_length() > 0) || parser.chunked();
  const auto now = clock::now();
  auto admitted = app.admit(parser.get().base(), now, peer_sha256, from);
  if (auto* refusal = std::get_if<response>(&admitted)) {
    x.answer = std::move(*refusal);
    x.body_read = !has_body;
    co_return x;
  }
  auto& a = std::get<request_handler::admitted>(admitted);
  // Credentials shown: the connection leaves the anonymous budget.
  if (!a.credential.empty() && slot.authenticated(a.credential)) gauge.authenticated();

  // Small JSON bodies are read whole; the message moves into another parser,
  // so the head is looked up again afterwards.
  std::optional<http::request_parser<http::string_body>> json_parser;
  const request_head* head = &parser.get().base();
  std::string body;
  if (a.body != body_kind::stream && has_body) {
    const auto body_limit = a.max_body ? a.max_body : limits.json_limit;
    // Beast checks a declared length against body_limit only while reading
    // the head, which had no limit: check it here.
    if (parser.content_length() && *parser.content_length() > body_limit) {
      x.answer = app.failure_response(http_failure::too_large, "the request body is too large");
      x.body_read = false;
      co_return x;
    }
    json_parser.emplace(std::move(parser));
    json_parser->body_limit(body_limit);
    stream.expires_after(limits.timeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, *json_parser, use_tuple);
    if (ec == http::error::body_limit) {
      x.answer = app.failure_response(http_failure::too_large, "the request body is too large");
      x.body_read = false;
      co_return x;
    }
    if (ec) {
      x.lost = true;
      co_return x;
    }
    head = &json_parser->get().base();
    body = std::move(json_parser->get().body());
  }
  outcome result = a.run(*head, std::move(body));

  if (auto* res = std::get_if<response>(&result)) {
    x.answer = std::move(*res);
    // A stream route that answered at once left its body unread.
    x.body_read = a.body != body_kind::stream || !has_body;
  } else if (auto* receiver = std::get_if<std::unique_ptr<body_receiver>>(&result)) {
    // The upload may first read a file (its hash catching up): the head's
    // deadline must not run out meanwhile, with no socket operation to
    // blame. What comes next sets its own.
    stream.expires_never();
    co_await (*receiver)->ready();
    // curl and other clients wait (curl: one second) for this before sending
    // a large body; sent only once the request was admitted and will be read.
    if (beast::iequals((*head)[http::field::expect], "100-continue")) {
      http::response<http::empty_body> go_on{http::status::continue_, 11};
      stream.expires_after(limits.timeout);
      if (auto [ec, n] = co_await http::async_write(stream, go_on, use_tuple); ec) {
        x.lost = true;
        co_return x;
      }
    }
    auto [received, complete] =
        co_await receive_body(stream, buffer, parser, **receiver, app, limits.timeout);
    receiver->reset();   // releases the upload before the response goes out
    x.lost = !received;  // the client went away; the bytes received are kept
    x.answer = std::move(received);
    x.body_read = complete;
  } else if (auto* later = std::get_if<deferred>(&result)) {
    // A long-poll: no socket operation is pending while it waits, and none
    // may time out under it; send() sets the deadline for the answer. Its
    // I/O buffers go back meanwhile: thousands of agents wait at once.
    stream.expires_never();
    stream.release_buffers();
    x.answer = co_await later->wait();
  } else {
    x.streamed = std::move(std::get<download>(result));
  }
  co_return x;
}

// The Retry-After of a 503 for a full server, in seconds: drawn between 10
// and 20, so that clients refused in the same second (agents reconnecting
// after a restart) do not all come back in the same second either.
unsigned busy_retry_after() {
  thread_local std::minstd_rand random{std::random_device{}()};
  return std::uniform_int_distribution<unsigned>(10, 20)(random);
}

// Lets the connection budget end a connection from another thread: the cut
// runs on the connection's strand, and only while its stream exists.
struct shed_handle {
  asio::any_io_executor executor;
  tls_stream* stream = nullptr;  // null once the connection ended
};

// The response to a head that failed to parse or frames its body ambiguously.
response head_error(const head_refusal& r, const request_handler& app) {
  switch (r.status) {
    case http::status::request_header_fields_too_large:
      return app.failure_response(http_failure::headers_too_large, r.message);
    case http::status::not_implemented:
      return app.failure_response(http_failure::transfer_coding, r.message);
    default:
      return app.failure_response(http_failure::bad_request, r.message);
  }
}

// Reads a PROXY protocol header from a trusted proxy's connection, before
// the TLS bytes (anything read past it goes back to the stream). The client
// it names, or the proxy itself for its own health checks; nullopt: no
// valid header, close.
asio::awaitable<std::optional<asio::ip::address>> read_proxy_header(
    tls_stream& stream, const asio::ip::address& proxy) {
  std::array<std::uint8_t, proxy_protocol::max_header> header;
  std::size_t filled = 0;
  for (;;) {
    auto [ec, n] = co_await stream.next_layer().async_read_some(
        asio::buffer(header.data() + filled, header.size() - filled), use_tuple);
    if (ec) co_return std::nullopt;
    filled += n;
    auto parsed = proxy_protocol::parse({header.data(), filled});
    if (parsed.outcome == proxy_protocol::state::need_more && filled < header.size()) continue;
    if (parsed.outcome != proxy_protocol::state::complete) {
      spdlog::warn("connection from trusted proxy {} closed: {}", proxy.to_string(),
                   parsed.outcome == proxy_protocol::state::invalid ? parsed.problem
                                                                    : "PROXY header too long");
      co_return std::nullopt;
    }
    stream.preload({header.data() + parsed.length, filled - parsed.length});
    co_return parsed.source.value_or(proxy);
  }
}

}  // namespace

asio::awaitable<void> serve_connection(asio::ip::tcp::socket socket, connection_context& ctx,
                                       connection_budget::handshake in_flight) {
  boost::system::error_code peer_ec;
  const auto peer = socket.remote_endpoint(peer_ec);
  if (peer_ec) co_return;
  const bool proxied = ctx.trusted_proxies.contains(peer.address());
  // A proxy's connections share its address until their PROXY header names
  // the client: counted apart meanwhile, so a burst of them is not capped.
  client_info from{peer.address(),
                   proxied ? fmt::format("proxied {}:{}", peer.address().to_string(), peer.port())
                           : address_key(peer.address())};
  const auto& limits = ctx.limits;
  // Kept for the connection's life: a certificate reloaded meanwhile is for
  // the next connections.
  const auto tls_context = ctx.tls.current();
  tls_stream stream(std::move(socket), *tls_context);
  auto shedder = std::make_shared<shed_handle>(shed_handle{stream.get_executor(), &stream});
  // Runs on this coroutine's strand, as does the shed below.
  struct detach {
    std::shared_ptr<shed_handle> h;
    ~detach() { h->stream = nullptr; }
  } detached_at_end{shedder};
  auto slot = ctx.budget.admit(
      from.key,
      [h = shedder, &stats = ctx.stats] {
        stats.connections_shed.fetch_add(1, std::memory_order_relaxed);
        asio::post(h->executor, [h] {
          if (h->stream) h->stream->cancel_now();
        });
      },
      std::move(in_flight));
  stream.expires_after(limits.handshake_timeout);
  if (!slot) {
    // Every place is held by an authenticated connection. (Its handshake is
    // not counted at the gate: admit() let go of `in_flight`.)
    ctx.stats.connections_refused.fetch_add(1, std::memory_order_relaxed);
    if (auto [ec] = co_await stream.async_handshake(use_tuple); ec) co_return;
    auto res = ctx.app.failure_response(http_failure::busy, "too many connections");
    res.set(http::field::retry_after, std::to_string(busy_retry_after()));
    res.keep_alive(false);
    co_await send(stream, res, ctx.app, limits.handshake_timeout);
    co_await stream.async_shutdown(use_tuple);
    co_return;
  }
  connection_gauge gauge(ctx.stats);

  if (proxied) {
    auto client = co_await read_proxy_header(stream, from.address);
    if (!client) co_return;
    from = {*client, address_key(*client)};
    slot->move_to(from.key);
  } else if (auto [ec] = co_await stream.next_layer().async_wait(asio::ip::tcp::socket::wait_read,
                                                                 use_tuple);
             ec) {
    co_return;  // timed out or shed before its first byte
  }
  // A handshake under way, not a silent connection holding a place at the
  // gate (accept_connections).
  slot->heard_from();
  if (auto [ec] = co_await stream.async_handshake(use_tuple); ec) co_return;
  slot->handshake_done();
  // Verified against the server's CA during the handshake (or carried by a
  // resumed session); whose it is, and whether it is revoked, is looked up
  // per request: a revoked agent's connection stays anonymous.
  const std::string peer_sha256 =
      common::certificate_sha256(SSL_get0_peer_certificate(stream.native_handle()));
  beast::flat_buffer buffer;
  bool unread_body = false;
  for (bool open = true; open;) {
    http::request_parser<http::empty_body> parser;
    parser.header_limit(limits.header_limit);
    // Beast checks Content-Length against this while reading the head (1 MB
    // by default for requests); each route sets its own limit on the body.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    stream.expires_after(slot->is_authenticated() ? limits.timeout : limits.handshake_timeout);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    auto started = std::chrono::steady_clock::now();
    exchange x;
    bool head_request = false;
    if (ec) {
      auto refusal = parse_refusal(ec);
      if (!refusal) break;  // closed, timed out, reset: nobody to answer
      x.answer = head_error(*refusal, ctx.app);
      x.body_read = false;
    } else if (auto refusal = check_framing(parser.get())) {
      // Where this body ends is in doubt: answer, and trust nothing after.
      x.answer = head_error(*refusal, ctx.app);
      x.body_read = false;
    } else {
      open = parser.get().keep_alive();
      head_request = parser.get().method() == http::verb::head;
      const auto add_request_headers = ctx.app.request_headers(parser.get().base());
      x = co_await handle(stream, buffer, parser, ctx.app, limits, peer_sha256, from, *slot, gauge);
      if (x.lost) co_return;
      if (x.answer) add_request_headers(*x.answer);
    }
    bool sent = false;
    unsigned status = 0;
    if (x.streamed) {
      status = x.streamed->head.result_int();
      sent = co_await send_download(stream, *x.streamed, ctx.app, limits.timeout);
    } else {
      open = open && x.body_read;
      unread_body = !x.body_read;
      x.answer->keep_alive(open);
      // A response to HEAD has no body (RFC 9110 9.3.2), errors included:
      // a client would read their JSON as the start of the next response.
      // Its Content-Length is the one GET would get (a page's size).
      if (head_request) {
        const auto length = x.answer->body().size();
        x.answer->body().clear();
        x.answer->content_length(length);
      }
      status = x.answer->result_int();
      sent = co_await send(stream, *x.answer, ctx.app, limits.timeout);
    }
    ctx.stats.observe_request(
        status, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (!sent) co_return;
  }
  if (unread_body) co_await drain(stream);
  stream.expires_after(std::chrono::seconds(5));
  co_await stream.async_shutdown(use_tuple);
}

asio::awaitable<void> accept_connections(asio::ip::tcp::acceptor& acceptor,
                                         connection_context& ctx) {
  // While the gate is full, a connection that has sent nothing this long
  // after its accept is a silent one holding a place (a real client sends
  // its ClientHello at once), and one whose handshake is not over after
  // `stalled` waits on a client that sends a byte at a time (the CPU needs
  // milliseconds): both are shed, so that neither can close the gate for
  // the whole handshake_timeout.
  constexpr auto silent = std::chrono::seconds(2);
  constexpr auto stalled = std::chrono::seconds(5);
  constexpr auto recheck = std::chrono::milliseconds(5);
  auto& ioc = static_cast<asio::io_context&>(acceptor.get_executor().context());
  asio::steady_timer pause(ioc);
  for (;;) {
    for (auto waited = std::chrono::milliseconds(0); !ctx.budget.handshake_room();
         waited += recheck) {
      // Closed while the gate was full (the server stopping): the loop ends
      // now, not with the io_context.
      if (!acceptor.is_open()) co_return;
      if (waited >= std::chrono::milliseconds(100)) {
        ctx.budget.shed_stalled_handshakes(silent, stalled);
        waited = {};
      }
      pause.expires_after(recheck);
      co_await pause.async_wait(use_tuple);
    }
    auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), use_tuple);
    // A closed acceptor answers operation_aborted, or bad_descriptor when it
    // was closed before this accept began: either way, nothing to back off for.
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // Out of descriptors and the like: back off instead of spinning.
      spdlog::warn("accept failed: {}", ec.message());
      pause.expires_after(std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    auto executor = socket.get_executor();
    asio::co_spawn(executor, serve_connection(std::move(socket), ctx, ctx.budget.start_handshake()),
                   [](std::exception_ptr e) {
                     if (!e) return;
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       spdlog::error("connection ended by an exception: {}", ex.what());
                     }
                   });
  }
}

}  // namespace valise::server
