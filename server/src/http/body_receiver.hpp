// A request body streamed into storage (tus PATCH, creation-with-upload):
// the connection reads into the receiver's buffer, so the bytes are not
// copied on their way to storage. Apart from request_handler.hpp so that
// tus/, which implements it, sees nothing of what a connection serves.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>

#include "http/message.hpp"
#include "valise/crypto/io.hpp"

namespace valise::server {

class body_receiver {
 public:
  virtual ~body_receiver() = default;
  // Largest body accepted, checked against Content-Length before reading.
  virtual std::uint64_t max_body() const = 0;
  // Awaited before the body is read: work the receiver must do first, off
  // the io thread (a tus upload's hash catching up with the bytes another
  // node appended). By default none.
  virtual boost::asio::awaitable<void> ready();
  // Where the next bytes go (never empty): the connection reads into it, so
  // that they are not copied on their way to storage. The same space until
  // commit() took some of it.
  virtual crypto::mutable_bytes buffer() = 0;
  // Takes the first `n` bytes of buffer(); a response means stop reading and
  // send it now.
  virtual std::optional<response> commit(std::size_t n) = 0;
  // Takes a copy of `data`, through buffer() and commit().
  std::optional<response> write(crypto::bytes data);
  // The body ended: commits it and answers. Awaited: committing may take
  // as long as copying the body (a checksummed PATCH), off the io thread.
  virtual boost::asio::awaitable<response> finish() = 0;
  // Destroyed without finish(): the connection broke; keep what can be kept.
};

}  // namespace valise::server
