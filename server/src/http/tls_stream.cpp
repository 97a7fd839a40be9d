#include "http/tls_stream.hpp"

#include <openssl/err.h>

#include <boost/asio/ssl/error.hpp>
#include <cstring>

namespace valise::server {
namespace {

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

// Ciphertext read from the socket at most at once: 16 TLS records.
constexpr std::size_t input_capacity = 256u << 10;
// Ciphertext gathered before a send.
constexpr std::size_t output_capacity = 256u << 10;

}  // namespace

// One timer per connection, re-armed only when it goes off before the
// deadline (which each operation moves on): setting a deadline is then a
// store, not a timer operation and a system call.
struct tls_stream::deadline {
  explicit deadline(const executor_type& ex) : timer(ex) {}
  asio::steady_timer timer;
  clock_type::time_point at = clock_type::time_point::max();
  bool waiting = false;
  bool expired = false;
  asio::ip::tcp::socket* socket = nullptr;  // null once the stream is gone

  static void arm(const std::shared_ptr<deadline>& d) {
    d->waiting = true;
    d->timer.expires_at(d->at);  // cancels a wait already set: it returns below
    d->timer.async_wait([d](const error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      d->waiting = false;
      if (!d->socket) return;
      if (clock_type::now() < d->at) return arm(d);
      d->expired = true;
      error_code ignored;
      d->socket->cancel(ignored);  // the pending operation ends with the timeout
    });
  }
};

tls_stream::tls_stream(asio::ip::tcp::socket socket, asio::ssl::context& ctx)
    : socket_(std::move(socket)),
      ssl_(SSL_new(ctx.native_handle())),
      deadline_(std::make_shared<deadline>(socket_.get_executor())) {
  deadline_->socket = &socket_;
  if (!ssl_) return;  // handshake_step reports it
  BIO* bio = BIO_new(bio_method());
  BIO_set_data(bio, this);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_, bio, bio);
  // RELEASE_BUFFERS: OpenSSL's own record buffers (about 34 KiB) go back
  // whenever they are empty, as between an agent's long-polls; kept, they
  // were most of what each of 10,000 waiting agents cost.
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                         SSL_MODE_RELEASE_BUFFERS);
  // Whole records and more per BIO read, from the buffer already filled.
  SSL_set_read_ahead(ssl_, 1);
  SSL_set_accept_state(ssl_);
}

tls_stream::~tls_stream() {
  deadline_->socket = nullptr;
  deadline_->timer.cancel();
  if (ssl_) SSL_free(ssl_);  // and the BIO
}

void tls_stream::expires_after(clock_type::duration d) {
  auto& t = *deadline_;
  t.at = clock_type::now() + d;
  if (!t.waiting || t.at < t.timer.expiry()) deadline::arm(deadline_);
}

void tls_stream::expires_never() {
  deadline_->at = clock_type::time_point::max();
}

void tls_stream::cancel_now() {
  deadline_->expired = true;
  error_code ignored;
  socket_.cancel(ignored);
}

void tls_stream::preload(std::span<const std::uint8_t> ciphertext) {
  auto space = input_space();
  const auto n = std::min(space.size(), ciphertext.size());
  std::memcpy(space.data(), ciphertext.data(), n);
  in_end_ += n;
}

void tls_stream::release_buffers() {
  if (in_pos_ == in_end_) {
    in_.reset();
    in_pos_ = in_end_ = 0;
  }
  if (out_size_ == 0) out_.reset();
}

bool tls_stream::expired() const {
  return deadline_->expired;
}

tls_stream::error_code tls_stream::io_error(error_code ec) const {
  return expired() ? error_code(boost::beast::error::timeout) : ec;
}

asio::mutable_buffer tls_stream::input_space() {
  if (!in_) in_.reset(new std::uint8_t[input_capacity]);  // uninitialised: untouched until read
  if (in_pos_ == in_end_) {
    in_pos_ = in_end_ = 0;
  } else if (input_capacity - in_end_ < input_capacity / 4) {
    std::memmove(in_.get(), in_.get() + in_pos_, in_end_ - in_pos_);
    in_end_ -= in_pos_;
    in_pos_ = 0;
  }
  return {in_.get() + in_end_, input_capacity - in_end_};
}

tls_stream::error_code tls_stream::ssl_error(int result) {
  const int kind = SSL_get_error(ssl_, result);
  if (kind == SSL_ERROR_ZERO_RETURN) return asio::error::eof;  // close_notify
  const unsigned long e = ERR_get_error();
  // The peer closed the connection without close_notify.
  if ((kind == SSL_ERROR_SYSCALL && e == 0) ||
      (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING))
    return asio::ssl::error::stream_truncated;
  if (e == 0) return asio::ssl::error::unspecified_system_error;
  return {static_cast<int>(e), asio::error::get_ssl_category()};
}

tls_stream::next tls_stream::wanted(int result, error_code& ec) {
  switch (SSL_get_error(ssl_, result)) {
    case SSL_ERROR_WANT_READ:
      return next::fill;
    case SSL_ERROR_WANT_WRITE:
      return next::flush;
    default:
      ec = ssl_error(result);  // an alert goes out before it is reported
      return next::done;
  }
}

tls_stream::next tls_stream::handshake_step(error_code& ec) {
  if (!ssl_) {
    ec = asio::error::no_memory;
    return next::done;
  }
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl_);
  return r == 1 ? next::done : wanted(r, ec);
}

tls_stream::next tls_stream::shutdown_step(error_code& ec) {
  if (!ssl_) return next::done;
  for (;;) {
    ERR_clear_error();
    const int r = SSL_shutdown(ssl_);
    if (r == 1) return next::done;
    if (r != 0) return wanted(r, ec);
    // 0: close_notify queued; the next call waits for the peer's.
  }
}

tls_stream::next tls_stream::read_step(asio::mutable_buffer into, std::size_t& total,
                                       error_code& ec) {
  while (total < into.size()) {
    ERR_clear_error();
    std::size_t n = 0;
    const int r =
        SSL_read_ex(ssl_, static_cast<std::uint8_t*>(into.data()) + total, into.size() - total, &n);
    if (r != 1) {
      // Bytes before a failure are delivered first; the next read meets it
      // again (OpenSSL's failures stay).
      return total > 0 ? next::done : wanted(r, ec);
    }
    total += n;
  }
  return next::done;
}

tls_stream::next tls_stream::write_step(asio::const_buffer from, std::size_t& written,
                                        error_code& ec) {
  while (written < from.size()) {
    ERR_clear_error();
    std::size_t n = 0;
    const int r = SSL_write_ex(ssl_, static_cast<const std::uint8_t*>(from.data()) + written,
                               from.size() - written, &n);
    if (r != 1) return wanted(r, ec);
    written += n;
  }
  return next::done;
}

int tls_stream::bio_read(BIO* b, char* out, int length) {
  auto& s = *static_cast<tls_stream*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  const std::size_t available = s.in_end_ - s.in_pos_;
  if (available == 0) {
    if (s.eof_) return 0;
    BIO_set_retry_read(b);
    return -1;
  }
  const std::size_t n = std::min(available, static_cast<std::size_t>(length));
  std::memcpy(out, s.in_.get() + s.in_pos_, n);
  s.in_pos_ += n;
  return static_cast<int>(n);
}

int tls_stream::bio_write(BIO* b, const char* in, int length) {
  auto& s = *static_cast<tls_stream*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  if (!s.out_) s.out_.reset(new std::uint8_t[output_capacity]);
  const std::size_t room = output_capacity - s.out_size_;
  if (room == 0) {
    BIO_set_retry_write(b);
    return -1;
  }
  const std::size_t n = std::min(room, static_cast<std::size_t>(length));
  std::memcpy(s.out_.get() + s.out_size_, in, n);
  s.out_size_ += n;
  return static_cast<int>(n);
}

long tls_stream::bio_ctrl(BIO* b, int command, long, void*) {
  auto& s = *static_cast<tls_stream*>(BIO_get_data(b));
  switch (command) {
    case BIO_CTRL_FLUSH:
      return 1;  // sent when the operation needs input or ends
    case BIO_CTRL_PENDING:
      return static_cast<long>(s.in_end_ - s.in_pos_);
    case BIO_CTRL_WPENDING:
      return static_cast<long>(s.out_size_);
    default:
      return 0;
  }
}

BIO_METHOD* tls_stream::bio_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "valise-tls-stream");
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_ctrl(m, bio_ctrl);
    return m;
  }();
  return method;
}

}  // namespace valise::server
