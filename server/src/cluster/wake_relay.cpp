#include "cluster/wake_relay.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace valise::server::cluster {

namespace asio = boost::asio;

result<sql::connection> open_listening(const std::string& url, const char* channel,
                                       std::string& why) {
  auto db = sql::connection::open(url, why);
  if (!db) return db.error();
  if (auto r = db->listen(channel); !r) {
    why = db->error_message();
    return r.error();
  }
  return db;
}

asio::awaitable<void> relay_wakes(const common::wiped_string& url, const char* channel,
                                  std::optional<sql::connection> db, wake_handlers on,
                                  std::chrono::milliseconds retry) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer pause(executor);
  bool told_unreachable = false;
  for (;;) {
    if (!db) {
      pause.expires_after(retry);
      if (auto [ec] = co_await pause.async_wait(asio::as_tuple(asio::use_awaitable)); ec) co_return;
      // Blocks this I/O thread for at most libpq's connect_timeout, and only
      // while the database is unreachable, when the store's calls wait too.
      std::string why;
      auto opened = open_listening(url.value, channel, why);
      if (!opened) {
        if (!told_unreachable) spdlog::warn("wakes from other nodes: cannot listen ({})", why);
        told_unreachable = true;
        continue;
      }
      db.emplace(std::move(*opened));
      spdlog::info("wakes from other nodes: listening again; waking every long-poll once");
      told_unreachable = false;
      on.everything();
    }
    // A descriptor of our own on libpq's socket, so that asio closing it
    // leaves libpq's alone.
    const int fd = db->notification_fd() < 0 ? -1 : ::dup(db->notification_fd());
    if (fd < 0) {
      spdlog::warn("wakes from other nodes: no socket to watch; reconnecting");
      db.reset();
      continue;
    }
    asio::posix::stream_descriptor socket(executor, fd);
    for (;;) {
      // Notifications may already sit in libpq's buffer (read during LISTEN):
      // take them before waiting on the socket.
      auto got = db->notifications();
      if (!got) {
        spdlog::warn("wakes from other nodes: connection lost ({}); reconnecting",
                     db->error_message());
        db.reset();
        break;
      }
      for (const auto& n : *got) {
        if (n.payload == "*")
          on.events();
        else
          on.agent(n.payload);
      }
      // Readable still (libpq read a message but not the end of the stream
      // after it): look again at once, since asio waits for a new edge.
      pollfd ready{fd, POLLIN, 0};
      if (::poll(&ready, 1, 0) > 0) continue;
      auto [ec] = co_await socket.async_wait(asio::posix::stream_descriptor::wait_read,
                                             asio::as_tuple(asio::use_awaitable));
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) {
        spdlog::warn("wakes from other nodes: {}; reconnecting", ec.message());
        db.reset();
        break;
      }
    }
  }
}

}  // namespace valise::server::cluster
