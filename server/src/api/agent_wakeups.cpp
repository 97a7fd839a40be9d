#include "api/agent_wakeups.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <vector>

namespace valise::server {

namespace asio = boost::asio;

agent_wakeups::waiter::waiter(agent_wakeups& owner, std::string agent_id,
                              asio::any_io_executor executor)
    : owner_(owner), agent_id_(std::move(agent_id)), timer_(std::move(executor)) {}

agent_wakeups::waiter::~waiter() {
  owner_.remove(this);
}

asio::awaitable<bool> agent_wakeups::waiter::wait(std::chrono::steady_clock::duration timeout) {
  if (woken_) co_return true;
  timer_.expires_after(timeout);
  // Counted out even if the coroutine is destroyed mid-wait (a stopping server).
  struct parked {
    std::atomic<std::size_t>& n;
    explicit parked(std::atomic<std::size_t>& count) : n(count) { n.fetch_add(1); }
    parked(const parked&) = delete;
    parked& operator=(const parked&) = delete;
    ~parked() { n.fetch_sub(1); }
  } counted(owner_.parked_);
  // A wake cancels the timer; either way the flag says which it was.
  co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return woken_;
}

std::shared_ptr<agent_wakeups::waiter> agent_wakeups::enlist(const std::string& agent_id,
                                                             asio::any_io_executor executor) {
  auto w = std::make_shared<waiter>(*this, agent_id, std::move(executor));
  std::lock_guard lock(mutex_);
  waiters_.emplace(agent_id, w.get());
  return w;
}

void agent_wakeups::wake(const std::string& agent_id) {
  std::vector<std::shared_ptr<waiter>> woken;
  {
    std::lock_guard lock(mutex_);
    auto [first, last] = waiters_.equal_range(agent_id);
    for (auto it = first; it != last; ++it)
      // Empty if that waiter is being destroyed (it is waiting for this lock).
      if (auto w = it->second->weak_from_this().lock()) woken.push_back(std::move(w));
  }
  deliver(std::move(woken));
}

void agent_wakeups::wake_all() {
  std::vector<std::shared_ptr<waiter>> woken;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, w] : waiters_)
      if (auto alive = w->weak_from_this().lock()) woken.push_back(std::move(alive));
  }
  deliver(std::move(woken));
}

void agent_wakeups::deliver(std::vector<std::shared_ptr<waiter>> woken) {
  // The timer belongs to the waiting connection's strand: act there.
  for (auto& w : woken)
    asio::post(w->timer_.get_executor(), [w] {
      w->woken_ = true;
      w->timer_.cancel();
    });
}

std::size_t agent_wakeups::waiting() const {
  std::lock_guard lock(mutex_);
  return waiters_.size();
}

std::size_t agent_wakeups::waiting(const std::string& agent_id) const {
  std::lock_guard lock(mutex_);
  return waiters_.count(agent_id);
}

void agent_wakeups::remove(waiter* w) {
  std::lock_guard lock(mutex_);
  auto [first, last] = waiters_.equal_range(w->agent_id_);
  for (auto it = first; it != last; ++it)
    if (it->second == w) {
      waiters_.erase(it);
      return;
    }
}

}  // namespace valise::server
