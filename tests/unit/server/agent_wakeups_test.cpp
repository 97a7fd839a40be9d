// Long-poll wakeups: a wake reaches the waiter whether it comes before or
// during the wait, from any thread; a wait without one times out.
#include "api/agent_wakeups.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <thread>

namespace valise::server {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct outcome_of_wait {
  bool woken = false;
  std::chrono::steady_clock::duration took{};
};

TEST(AgentWakeups, AWakeDuringTheWaitEndsItAtOnce) {
  asio::io_context ioc;
  agent_wakeups wakeups;
  outcome_of_wait got;
  auto strand = asio::make_strand(ioc);
  asio::co_spawn(
      strand,
      [&]() -> asio::awaitable<void> {
        auto w = wakeups.enlist("agt_a", co_await asio::this_coro::executor);
        const auto start = std::chrono::steady_clock::now();
        got.woken = co_await w->wait(30s);
        got.took = std::chrono::steady_clock::now() - start;
      },
      asio::detached);
  std::thread waker([&] {
    while (wakeups.waiting() == 0) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(50ms);
    wakeups.wake("agt_other");  // another agent's wake is not ours
    wakeups.wake("agt_a");
  });
  ioc.run();
  waker.join();
  EXPECT_TRUE(got.woken);
  EXPECT_LT(got.took, 5s);
  EXPECT_EQ(wakeups.waiting(), 0u);
}

TEST(AgentWakeups, AWakeBeforeTheWaitIsNotLostAndRearmForgetsIt) {
  asio::io_context ioc;
  agent_wakeups wakeups;
  bool first = false, second = true;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        auto w = wakeups.enlist("agt_a", co_await asio::this_coro::executor);
        wakeups.wake("agt_a");
        asio::steady_timer settle(co_await asio::this_coro::executor, 10ms);
        co_await settle.async_wait(asio::use_awaitable);
        first = co_await w->wait(30s);
        w->rearm();
        second = co_await w->wait(20ms);
      },
      asio::detached);
  ioc.run();
  EXPECT_TRUE(first);
  EXPECT_FALSE(second);
}

// The /metrics gauge: a request enlisted but still looking is not parked;
// one inside wait() is until its wake or its timeout.
TEST(AgentWakeups, ParkedCountsTheRequestsInsideTheirWait) {
  asio::io_context ioc;
  agent_wakeups wakeups;
  std::size_t while_looking = 99, after_wake = 99, after_timeout = 99;
  asio::co_spawn(
      asio::make_strand(ioc),
      [&]() -> asio::awaitable<void> {
        auto w = wakeups.enlist("agt_a", co_await asio::this_coro::executor);
        while_looking = wakeups.parked();
        co_await w->wait(30s);
        after_wake = wakeups.parked();
        w->rearm();
        co_await w->wait(20ms);
        after_timeout = wakeups.parked();
      },
      asio::detached);
  std::size_t seen = 0;
  std::thread waker([&] {
    while ((seen = wakeups.parked()) == 0) std::this_thread::sleep_for(1ms);
    wakeups.wake("agt_a");
  });
  ioc.run();
  waker.join();
  EXPECT_EQ(while_looking, 0u);
  EXPECT_EQ(seen, 1u);
  EXPECT_EQ(after_wake, 0u);
  EXPECT_EQ(after_timeout, 0u);
}

}  // namespace
}  // namespace valise::server
