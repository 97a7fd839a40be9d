#include "outbox/delivery_worker.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <random>
#include <set>

#include "clock/clock.hpp"
#include "outbox/helpdesk_target.hpp"
#include "outbox/standard_webhook.hpp"

namespace valise::server::outbox {
namespace {

// Entries looked at per pass; and how often the worker looks for entries
// whose time came when nothing woke it.
constexpr std::size_t batch = 32;
constexpr std::chrono::seconds poll_interval{1};

unix_time now_seconds() {
  return clock::now();  // the server's clock, which tests may set
}

}  // namespace

target_list configured_targets(const server_config& config) {
  target_list out;
  for (const auto& w : config.outbox.webhooks)
    out.push_back(std::make_shared<webhook_target>(
        webhook_settings{w.name, w.url, w.key, w.ca_file.string(), w.events}));
  for (auto& t : helpdesk_targets(config.helpdesks)) out.push_back(std::move(t));
  return out;
}

outbox_policy routing_policy(const target_list& targets, const outbox_config& config,
                             std::function<void()> wake) {
  outbox_policy p;
  p.route = [targets](const outbox_subject& subject, std::string_view event) {
    std::vector<std::string> names;
    for (const auto& t : targets)
      if (t->wants(event) && (t->connector().empty() || t->connector() == subject.connector))
        names.push_back(t->name());
    return names;
  };
  p.max_pending_per_target = config.max_pending_per_target;
  p.enqueued = std::move(wake);
  return p;
}

retry_settings retry_settings_of(const outbox_config& config) {
  return {config.min_backoff, config.max_backoff, config.give_up_after};
}

delivery_worker::delivery_worker(outbox_store& db, target_list targets, retry_settings retry)
    : db_(db), targets_(std::move(targets)), retry_(retry) {}

delivery_worker::~delivery_worker() {
  stop();
}

void delivery_worker::start() {
  // Again after a stop(): a node delivers while it is the cluster's leader.
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void delivery_worker::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  cv_.notify_one();
}

void delivery_worker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

const delivery_target* delivery_worker::find_target(const std::string& name) const {
  for (const auto& t : targets_)
    if (t->name() == name) return t.get();
  return nullptr;
}

void delivery_worker::run() {
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      woken_ = false;
    }
    auto due = db_.due_outbox(now_seconds(), batch);
    if (!due) spdlog::error("outbox: cannot read due deliveries: {}", due.error().message());
    if (due) {
      std::set<std::string> unanswered;  // targets postponed in this pass
      for (const auto& entry : *due) {
        {
          std::lock_guard lock(mutex_);
          if (stopping_) return;
        }
        if (unanswered.contains(entry.target)) continue;
        if (!attempt(entry)) unanswered.insert(entry.target);
      }
      if (due->size() == batch) continue;
    }
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, poll_interval, [this] { return stopping_ || woken_; });
  }
}

common::https_client* delivery_worker::connection(const delivery_target& target,
                                                  std::string& error) {
  auto client = clients_.find(target.name());
  if (client != clients_.end()) return &client->second;
  auto made = common::https_client::create({.base_url = target.url(),
                                            .ca_file = target.ca_file(),
                                            .connect_timeout = std::chrono::seconds(10),
                                            .io_timeout = std::chrono::seconds(20),
                                            .response_limit = 64 << 10,
                                            .user_agent = "valise-server outbox"});
  if (!made) {
    error = "cannot set up the connection: " + made.error().message();
    return nullptr;
  }
  return &clients_.emplace(target.name(), std::move(*made)).first->second;
}

std::optional<common::http_response> delivery_worker::send(common::https_client& client,
                                                           const outbound_request& request,
                                                           std::string& error) {
  auto sent = client.send({.method = request.method,
                           .target = request.url,
                           .headers = request.headers,
                           .body = request.body});
  if (sent) return std::move(*sent);
  error = sent.error().message();
  if (!client.last_error_detail().empty()) error += " (" + client.last_error_detail() + ")";
  client.close();
  return std::nullopt;
}

std::optional<common::http_response> delivery_worker::deliver(const outbox_entry& entry,
                                                              unix_time now, outbox_attempt& a) {
  const auto* target = find_target(entry.target);
  if (!target) {
    a.result = outbox_attempt::outcome::give_up;
    a.error = "target \"" + entry.target + "\" is no longer configured";
    return std::nullopt;
  }
  auto* client = connection(*target, a.error);
  if (!client) return std::nullopt;
  // A session first where the target's API wants one (GLPI), kept for the
  // next deliveries. Failing to open one is retried: a wrong token fixed in
  // server.toml then delivers what waited.
  std::string session;
  if (auto open = target->session_request()) {
    auto known = sessions_.find(entry.target);
    if (known == sessions_.end()) {
      auto answer = send(*client, *open, a.error);
      if (!answer) return std::nullopt;
      a.status = answer->status;
      if (answer->status / 100 != 2) {
        a.error = fmt::format("opening a session answered HTTP {}", answer->status);
        return std::nullopt;
      }
      auto token = target->session_of(*answer);
      if (!token) {
        a.error = token.error();
        return std::nullopt;
      }
      a.status = 0;  // the note's answer is the attempt's, not the session's
      known = sessions_.emplace(entry.target, std::move(*token)).first;
    }
    session = known->second;
  }
  auto request = target->render(entry, now, session);
  if (!request) {
    a.result = outbox_attempt::outcome::give_up;
    a.error = request.error();
    return std::nullopt;
  }
  auto answer = send(*client, *request, a.error);
  if (answer && answer->status == 401 && !session.empty()) {
    sessions_.erase(entry.target);  // expired: the next attempt opens another
    a.status = 401;
    a.error = "the session was refused (HTTP 401); the next attempt opens another";
    return std::nullopt;
  }
  return answer;
}

bool delivery_worker::attempt(const outbox_entry& entry) {
  const unix_time now = now_seconds();
  outbox_attempt a;
  std::optional<std::chrono::seconds> retry_after;
  if (auto sent = deliver(entry, now, a)) {
    a.status = sent->status;
    switch (classify(sent->status)) {
      case verdict::delivered:
        a.result = outbox_attempt::outcome::delivered;
        break;
      case verdict::give_up:
        a.result = outbox_attempt::outcome::give_up;
        a.error = fmt::format("answered HTTP {}", sent->status);
        break;
      case verdict::retry:
        a.error = fmt::format("answered HTTP {}", sent->status);
        if (auto h = sent->header("Retry-After")) retry_after = parse_retry_after(*h);
        break;
    }
  }
  if (a.result == outbox_attempt::outcome::retry) {
    thread_local std::mt19937_64 random{std::random_device{}()};
    auto delay =
        backoff_delay(entry.attempts + 1, retry_, std::uniform_real_distribution<>(0, 1)(random));
    if (retry_after) delay = std::max(delay, std::min(*retry_after, retry_.max_backoff));
    a.next_attempt_at = now + delay.count();
    if (a.next_attempt_at > entry.since + retry_.give_up_after.count()) {
      a.result = outbox_attempt::outcome::give_up;
      a.error = fmt::format("gave up after {} attempts: {}", entry.attempts + 1, a.error);
    }
  }
  // Names, ids and statuses only: a target's URL may carry a token.
  switch (a.result) {
    case outbox_attempt::outcome::delivered:
      delivered_.fetch_add(1, std::memory_order_relaxed);
      spdlog::info("outbox: {} {} delivered to {} (HTTP {})", entry.event, entry.id, entry.target,
                   a.status);
      break;
    case outbox_attempt::outcome::give_up:
      given_up_.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("outbox: {} {} to {} failed for good: {}", entry.event, entry.id, entry.target,
                   a.error);
      break;
    case outbox_attempt::outcome::retry:
      spdlog::info("outbox: {} {} to {} not delivered ({}), next attempt in {}s", entry.event,
                   entry.id, entry.target, a.error, a.next_attempt_at - now);
      break;
  }
  if (auto r = db_.record_outbox_attempt(entry.id, a, now);
      !r && r.error() != store_errc::bad_state)
    spdlog::error("outbox: cannot record the attempt on {}: {}", entry.id, r.error().message());
  if (a.result != outbox_attempt::outcome::retry || a.status != 0) return true;
  if (auto r = db_.postpone_outbox(entry.target, a.next_attempt_at,
                                   "waiting: the target did not answer (" + a.error + ")");
      !r)
    spdlog::error("outbox: cannot postpone {}'s deliveries: {}", entry.target, r.error().message());
  return false;
}

}  // namespace valise::server::outbox
