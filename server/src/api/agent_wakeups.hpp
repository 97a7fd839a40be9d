// Long-polls: each waiting request parks a timer here (no thread, no
// polling) under a key until that key, or every key, is woken, or its wait
// runs out. Agents waiting for jobs wait under their id (woken when a request
// is created for them or they are revoked); the console's event long-polls
// under their credential (woken by every audit record, wake_all).
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace valise::server {

class agent_wakeups {
 public:
  // One waiting request. It is enlisted before the caller looks for work, so
  // a wake between the look and the wait is not lost.
  class waiter : public std::enable_shared_from_this<waiter> {
   public:
    waiter(agent_wakeups& owner, std::string agent_id, boost::asio::any_io_executor executor);
    waiter(const waiter&) = delete;
    waiter& operator=(const waiter&) = delete;
    ~waiter();
    // Forgets earlier wakes: call before each look for work.
    void rearm() { woken_ = false; }
    // Until woken or `timeout`; true if woken. On the executor given to enlist.
    boost::asio::awaitable<bool> wait(std::chrono::steady_clock::duration timeout);

   private:
    friend class agent_wakeups;
    agent_wakeups& owner_;
    std::string agent_id_;
    boost::asio::steady_timer timer_;
    bool woken_ = false;  // touched only on timer_'s executor
  };

  // `executor`: the waiting coroutine's (a connection's strand), where the
  // wake is delivered.
  std::shared_ptr<waiter> enlist(const std::string& agent_id,
                                 boost::asio::any_io_executor executor);
  // Wakes every request waiting for this agent; callable from any thread.
  void wake(const std::string& agent_id);
  // Wakes every waiting request; callable from any thread.
  void wake_all();
  std::size_t waiting() const;
  std::size_t waiting(const std::string& agent_id) const;
  // Requests inside wait() now: they looked, found nothing, and only a wake
  // or their timeout ends them (/metrics; tests wait on it before waking).
  std::size_t parked() const { return parked_.load(std::memory_order_relaxed); }

 private:
  void remove(waiter* w);
  static void deliver(std::vector<std::shared_ptr<waiter>> woken);

  mutable std::mutex mutex_;
  std::unordered_multimap<std::string, waiter*> waiters_;
  std::atomic<std::size_t> parked_{0};
};

}  // namespace valise::server
