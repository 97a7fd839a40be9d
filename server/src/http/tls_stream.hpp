// TLS over a connection's TCP socket, OpenSSL driven directly through a BIO
// of our own instead of asio::ssl::stream. asio's stream moves every byte
// through a BIO pair in 17 KB pieces: a system call, two copies and a
// completion per TLS record, and a timer re-armed per read. Here ciphertext
// is read from the socket up to 256 KiB at a time, records are decrypted
// from that buffer into the caller's, output records gather into one send,
// and the deadline is a time checked by one timer that is only re-armed when
// it goes off. The operations are asio's (a Beast AsyncStream), with the
// deadline semantics of beast::tcp_stream: once it passes, the pending
// operation and every later one fail with beast::error::timeout.
//
// One operation at a time: a connection reads a request, then writes its
// answer (OpenSSL's SSL object is not safe for a read and a write at once).
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace valise::server {

class tls_stream {
 public:
  using executor_type = boost::asio::any_io_executor;
  using error_code = boost::system::error_code;

  tls_stream(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& ctx);
  tls_stream(const tls_stream&) = delete;
  tls_stream& operator=(const tls_stream&) = delete;
  ~tls_stream();

  executor_type get_executor() { return socket_.get_executor(); }
  SSL* native_handle() const { return ssl_; }
  // The TCP socket, for what comes before TLS (a PROXY protocol header).
  boost::asio::ip::tcp::socket& next_layer() { return socket_; }
  // Bytes read from next_layer() past what came before TLS: the handshake
  // reads them first.
  void preload(std::span<const std::uint8_t> ciphertext);

  // The deadline for the operations from now on.
  void expires_after(std::chrono::steady_clock::duration d);
  void expires_never();
  // Ends the pending operation and every later one (beast::error::timeout):
  // the connection is being shed.
  void cancel_now();
  // Gives back the input and output buffers while the connection waits
  // with nothing pending (a long-poll); they come back on the next use.
  void release_buffers();

  // void(error_code)
  template <class Token>
  auto async_handshake(Token&& token) {
    return start<void(error_code)>(std::forward<Token>(token),
                                   [this](error_code& ec) { return handshake_step(ec); });
  }
  // Sends close_notify and waits for the peer's. void(error_code)
  template <class Token>
  auto async_shutdown(Token&& token) {
    return start<void(error_code)>(std::forward<Token>(token),
                                   [this](error_code& ec) { return shutdown_step(ec); });
  }
  // Fills as much of the first non-empty buffer as has arrived, at least
  // one byte. void(error_code, std::size_t)
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    boost::asio::mutable_buffer into;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && into.size() == 0; ++it)
      into = *it;
    return start<void(error_code, std::size_t)>(
        std::forward<Token>(token),
        [this, into, total = std::size_t{0}](error_code& ec, std::size_t* done = nullptr) mutable {
          if (done) return *done = total, next::done;
          return read_step(into, total, ec);
        });
  }
  // Writes all of `buffers`. void(error_code, std::size_t)
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return start<void(error_code, std::size_t)>(
        std::forward<Token>(token),
        [this, buffers, total = std::size_t{0}, staged = std::optional<std::size_t>()](
            error_code& ec, std::size_t* done = nullptr) mutable {
          if (done) return *done = total, next::done;
          if (!staged) staged = stage(buffers);
          if (total < *staged) {
            std::size_t n = 0;
            auto what = write_step({stage_.data() + total, *staged - total}, n, ec);
            total += n;
            if (what != next::done || ec) return what;
          }
          std::size_t skip = total;
          for (auto it = boost::asio::buffer_sequence_begin(buffers);
               it != boost::asio::buffer_sequence_end(buffers); ++it) {
            boost::asio::const_buffer b = *it;
            if (skip >= b.size()) {
              skip -= b.size();
              continue;
            }
            b += skip;
            skip = 0;
            std::size_t n = 0;
            auto what = write_step(b, n, ec);
            total += n;
            if (what != next::done || ec) return what;
          }
          return next::done;
        });
  }

 private:
  // What a step needs before OpenSSL can go on.
  enum class next { done, flush, fill };
  struct deadline;
  template <class Signature, class Step>
  struct op;

  template <class Signature, class Token, class Step>
  auto start(Token&& token, Step step) {
    return boost::asio::async_compose<Token, Signature>(op<Signature, Step>{*this, std::move(step)},
                                                        token, socket_);
  }

  // Run OpenSSL as far as it goes without the socket.
  next handshake_step(error_code& ec);
  next shutdown_step(error_code& ec);
  next read_step(boost::asio::mutable_buffer into, std::size_t& total, error_code& ec);
  next write_step(boost::asio::const_buffer from, std::size_t& written, error_code& ec);
  // What OpenSSL needs after a call that returned `result` <= 0, or the
  // failure (in `ec`).
  next wanted(int result, error_code& ec);
  error_code ssl_error(int result);
  // Copies the leading small buffers (a response head comes in pieces) into
  // stage_, so that they go out as one TLS record; returns their size, or 0
  // if there is only one.
  template <class ConstBuffers>
  std::size_t stage(const ConstBuffers& buffers) {
    stage_.clear();
    std::size_t count = 0;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it, ++count) {
      boost::asio::const_buffer b = *it;
      if (stage_.size() + b.size() > stage_limit) break;
      const auto* bytes = static_cast<const std::uint8_t*>(b.data());
      stage_.insert(stage_.end(), bytes, bytes + b.size());
    }
    return count >= 2 ? stage_.size() : 0;
  }
  // An I/O failure, or the deadline that caused it.
  error_code io_error(error_code ec) const;
  bool expired() const;
  boost::asio::mutable_buffer input_space();

  // The BIO's side.
  static int bio_read(BIO* b, char* out, int length);
  static int bio_write(BIO* b, const char* in, int length);
  static long bio_ctrl(BIO* b, int command, long number, void* pointer);
  static BIO_METHOD* bio_method();

  boost::asio::ip::tcp::socket socket_;
  SSL* ssl_ = nullptr;
  std::shared_ptr<deadline> deadline_;
  std::unique_ptr<std::uint8_t[]> in_;  // ciphertext read, [in_pos_, in_end_) not taken yet
  std::size_t in_pos_ = 0;
  std::size_t in_end_ = 0;
  bool eof_ = false;
  std::unique_ptr<std::uint8_t[]> out_;  // ciphertext to send
  std::size_t out_size_ = 0;
  static constexpr std::size_t stage_limit = 16 * 1024;  // a TLS record's
  std::vector<std::uint8_t> stage_;

  template <class, class>
  friend struct op;
};

// The driver of every operation: runs the step; sends pending output and
// reads more input when it asks; sends what is left before completing.
template <class Signature, class Step>
struct tls_stream::op {
  static constexpr bool sized = !std::is_same_v<Signature, void(error_code)>;
  enum class phase { run, flushing, filling, finishing, delivering };

  tls_stream& s;
  Step step;
  phase at = phase::run;
  bool started = false;
  error_code result;

  template <class Self>
  void operator()(Self& self, error_code ec = {}, std::size_t n = 0) {
    const bool first = !started;
    started = true;
    switch (at) {
      case phase::delivering:
        return deliver(self);
      case phase::finishing:
        s.out_size_ = 0;
        if (!result && ec) result = s.io_error(ec);
        return deliver(self);
      case phase::flushing:
        s.out_size_ = 0;
        if (ec) return finish(self, s.io_error(ec), first);
        break;
      case phase::filling:
        s.in_end_ += n;
        if (ec == boost::asio::error::eof)
          s.eof_ = true;
        else if (ec)
          return finish(self, s.io_error(ec), first);
        break;
      case phase::run:
        break;
    }
    at = phase::run;
    if (s.expired()) return finish(self, boost::beast::error::timeout, first);
    error_code failed;
    switch (step(failed)) {
      case next::done:
        if (s.out_size_ > 0) {
          result = failed;
          at = phase::finishing;
          return flush(self);
        }
        return finish(self, failed, first);
      case next::fill:
        if (s.out_size_ > 0) {
          at = phase::flushing;
          return flush(self);
        }
        at = phase::filling;
        return s.socket_.async_read_some(s.input_space(), std::move(self));
      case next::flush:
        at = phase::flushing;
        return flush(self);
    }
  }

 private:
  template <class Self>
  void flush(Self& self) {
    boost::asio::async_write(s.socket_, boost::asio::buffer(s.out_.get(), s.out_size_),
                             std::move(self));
  }
  // Never from within the initiating call: asio's rule.
  template <class Self>
  void finish(Self& self, error_code ec, bool first) {
    result = ec;
    if (!first) return deliver(self);
    at = phase::delivering;
    boost::asio::post(s.socket_.get_executor(), std::move(self));
  }
  template <class Self>
  void deliver(Self& self) {
    if constexpr (sized) {
      std::size_t total = 0;
      step(result, &total);
      self.complete(result, total);
    } else {
      self.complete(result);
    }
  }
};

}  // namespace valise::server
