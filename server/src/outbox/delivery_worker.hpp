// The outbox's delivery worker: its own thread (the server's I/O threads
// never wait on a helpdesk), which sends due entries through their target
// with the synchronous HTTPS client, one kept-alive connection per target,
// and records each attempt: 2xx delivered, a 4xx other than 408/429 failed
// for good, anything else retried with backoff (Retry-After honoured) until
// the give-up age. Woken at once when an entry is enqueued or retried.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "outbox/backoff.hpp"
#include "outbox/delivery_target.hpp"
#include "valise/server/config.hpp"
#include "valise/server/store/outbox_store.hpp"

namespace valise::server::outbox {

// Every target of the configuration: the [webhooks.NAME] targets, and the
// [helpdesk.NAME] connectors that have an API for notes.
target_list configured_targets(const server_config& config);

// The store's policy: each event goes to every target that wants it, a
// helpdesk's target taking only the tickets that came from it; `wake` runs
// after each commit that enqueued (the worker's wake()).
outbox_policy routing_policy(const target_list& targets, const outbox_config& config,
                             std::function<void()> wake);

retry_settings retry_settings_of(const outbox_config& config);

class delivery_worker {
 public:
  delivery_worker(outbox_store& db, target_list targets, retry_settings retry);
  ~delivery_worker();  // stop()
  delivery_worker(const delivery_worker&) = delete;
  delivery_worker& operator=(const delivery_worker&) = delete;

  // Starts the thread, unless it runs; again after stop().
  void start();
  // Safe from any thread, with any lock held: only notes and notifies.
  void wake();
  // Finishes the attempt under way (bounded by the client's timeouts) and
  // joins the thread.
  void stop();

  // Totals since start, for /metrics.
  std::uint64_t delivered() const { return delivered_.load(); }
  std::uint64_t given_up() const { return given_up_.load(); }

 private:
  void run();
  // One attempt on `entry`, recorded; false if its target did not answer
  // (its other entries then wait: outbox_store::postpone_outbox).
  bool attempt(const outbox_entry& entry);
  // Sends `entry` (opening its target's session first if needed): the
  // answer, or nullopt with `a` saying why and whether to give up.
  std::optional<common::http_response> deliver(const outbox_entry& entry, unix_time now,
                                               outbox_attempt& a);
  std::optional<common::http_response> send(common::https_client& client,
                                            const outbound_request& request, std::string& error);
  common::https_client* connection(const delivery_target& target, std::string& error);
  const delivery_target* find_target(const std::string& name) const;

  outbox_store& db_;
  target_list targets_;
  retry_settings retry_;
  std::map<std::string, common::https_client> clients_;  // worker thread only
  std::map<std::string, std::string> sessions_;          // targets' API sessions (GLPI); ditto
  std::mutex mutex_;
  std::condition_variable cv_;
  bool woken_ = false;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::uint64_t> given_up_{0};
};

}  // namespace valise::server::outbox
