#include "cluster/wake_relay.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <variant>

#include "sql/reconnect_pacing.hpp"

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

namespace {

// Readable (or writable) now: asio's reactor waits for a new edge, which a
// socket already ready may never give.
bool ready_now(int fd, sql::opening::wait wants) {
  pollfd ready{fd, static_cast<short>(wants == sql::opening::wait::read ? POLLIN : POLLOUT), 0};
  return ::poll(&ready, 1, 0) > 0;
}

// open_listening through asio: the I/O thread serves other connections while
// the database answers, or does not, for up to `budget`. nullopt when the
// io_context stops meanwhile.
asio::awaitable<std::optional<result<sql::connection>>> open_listening_within(
    const std::string& url, const char* channel, std::chrono::milliseconds budget,
    std::string& why) {
  using namespace asio::experimental::awaitable_operators;
  auto executor = co_await asio::this_coro::executor;
  auto opening = sql::opening::start(url, {channel});
  asio::steady_timer deadline(executor);
  deadline.expires_after(budget);
  for (auto wants = opening.wants(); wants != sql::opening::wait::done; wants = opening.wants()) {
    // A descriptor of our own on libpq's socket (which may change from one
    // step to the next), so that asio closing it leaves libpq's alone.
    const int fd = opening.socket() < 0 ? -1 : ::dup(opening.socket());
    if (fd < 0) {
      why = "no socket to wait on";
      co_return result<sql::connection>(std::make_error_code(std::errc::bad_file_descriptor));
    }
    asio::posix::stream_descriptor socket(executor, fd);
    if (!ready_now(fd, wants)) {
      const auto way = wants == sql::opening::wait::read
                           ? asio::posix::stream_descriptor::wait_read
                           : asio::posix::stream_descriptor::wait_write;
      auto done = co_await (socket.async_wait(way, asio::as_tuple(asio::use_awaitable)) ||
                            deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
      if (done.index() == 1) {
        if (std::get<0>(std::get<1>(done)) == asio::error::operation_aborted)
          co_return std::nullopt;
        why = "the database did not answer within " + std::to_string(budget.count() / 1000) + " s";
        co_return result<sql::connection>(std::make_error_code(std::errc::timed_out));
      }
      if (auto [ec] = std::get<0>(done); ec == asio::error::operation_aborted)
        co_return std::nullopt;
      // Any other error of the wait: step() finds what it is.
    }
    opening.step();
  }
  co_return opening.finish(why);
}

}  // namespace

asio::awaitable<void> relay_wakes(const common::wiped_string& url, const char* channel,
                                  std::optional<sql::connection> db, wake_handlers on,
                                  std::chrono::milliseconds attempt_budget) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer pause(executor);
  sql::detail::reconnect_pacing pacing;
  // After an attempt that failed: the pause it earns. false: stopping.
  auto back_off = [&]() -> asio::awaitable<bool> {
    pause.expires_after(pacing.wait());
    pacing.failed(sql::detail::reconnect_pacing::clock::now());
    auto [ec] = co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return !ec;
  };
  bool told_unreachable = false;
  for (;;) {
    if (!db) {
      // At once when found lost, then further apart while it stays so.
      std::string why;
      auto opened = co_await open_listening_within(url.value, channel, attempt_budget, why);
      if (!opened) co_return;
      if (!*opened) {
        if (!told_unreachable) spdlog::warn("wakes from other nodes: cannot listen ({})", why);
        told_unreachable = true;
        if (!co_await back_off()) co_return;
        continue;
      }
      pacing.succeeded();
      db.emplace(std::move(**opened));
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
      if (!co_await back_off()) co_return;  // out of descriptors, say: not in a tight loop
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
