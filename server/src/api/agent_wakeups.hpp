// Long-polls of agents waiting for jobs: each waiting request parks a timer
// here (no thread, no polling) until a request is created for its agent, the
// agent is revoked, or its wait runs out.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

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
  std::size_t waiting() const;

 private:
  void remove(waiter* w);

  mutable std::mutex mutex_;
  std::unordered_multimap<std::string, waiter*> waiters_;
};

}  // namespace valise::server
