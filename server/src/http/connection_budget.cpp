#include "http/connection_budget.hpp"

namespace valise::server {

void connection_budget::forget(entry& e) {
  if (!e.list) return;
  e.list->erase(e.where);
  e.list = nullptr;
  e.in_flight.done();
  if (e.now == entry::state::anonymous) {
    if (auto it = per_address_.find(e.key); it != per_address_.end() && --it->second == 0)
      per_address_.erase(it);
  } else if (e.now == entry::state::authenticated) {
    --authenticated_;
    if (auto it = by_credential_.find(e.key); it != by_credential_.end() && it->second.empty())
      by_credential_.erase(it);
  }
}

std::function<void()> connection_budget::pick_victim(entry_list& list, const std::string& key,
                                                     const entry* spare) {
  // A handshake cut is work thrown away on both sides, and a client that
  // started one is most likely real: idle connections that finished theirs go
  // first.
  for (bool handshaking : {false, true}) {
    for (const auto& candidate : list) {
      if (candidate.get() == spare || (!key.empty() && candidate->key != key) ||
          candidate->handshaking != handshaking)
        continue;
      return shed_entry(candidate);
    }
  }
  return {};
}

std::function<void()> connection_budget::shed_entry(std::shared_ptr<entry> victim) {
  forget(*victim);  // `victim` keeps it alive: the list's copy goes with its node
  victim->now = entry::state::shed;
  ++shed_;
  return std::move(victim->shed);
}

std::vector<std::function<void()>> connection_budget::make_room(const std::string& key,
                                                                const entry* spare) {
  std::vector<std::function<void()>> victims;
  auto take = [&](const std::string& of) {
    auto victim = pick_victim(anonymous_, of, spare);
    if (!victim) return false;
    victims.push_back(std::move(victim));
    return true;
  };
  auto here = [&] {
    auto it = per_address_.find(key);
    return it == per_address_.end() ? 0u : it->second;
  };
  while (here() >= policy_.max_per_address && take(key)) {
  }
  while (anonymous_.size() >= policy_.max_anonymous && take({})) {
  }
  while (anonymous_.size() + authenticated_ >= policy_.max_connections && take({})) {
  }
  return victims;
}

std::optional<connection_budget::slot> connection_budget::admit(std::string key,
                                                                std::function<void()> shed,
                                                                handshake in_flight) {
  std::vector<std::function<void()>> victims;
  auto e = std::make_shared<entry>();
  e->key = std::move(key);
  e->shed = std::move(shed);
  e->in_flight = std::move(in_flight);
  {
    std::lock_guard lock(mutex_);
    victims = make_room(e->key, nullptr);
    if (anonymous_.size() + authenticated_ >= policy_.max_connections) return std::nullopt;
    e->list = &anonymous_;
    e->where = anonymous_.insert(anonymous_.end(), e);
    ++per_address_[e->key];
  }
  for (auto& v : victims) v();
  return slot(*this, std::move(e));
}

void connection_budget::release(entry& e) {
  std::lock_guard lock(mutex_);
  forget(e);
  e.now = entry::state::released;
  e.shed = nullptr;
}

connection_budget::counts connection_budget::current() const {
  std::lock_guard lock(mutex_);
  return {static_cast<unsigned>(anonymous_.size()), authenticated_, handshakes_.load(), shed_};
}

void connection_budget::handshake::done() {
  if (budget_) std::exchange(budget_, nullptr)->handshakes_.fetch_sub(1);
}

connection_budget::handshake connection_budget::start_handshake() {
  handshakes_.fetch_add(1);
  return handshake(*this);
}

bool connection_budget::handshake_room() const {
  return handshakes_.load() < policy_.max_handshakes;
}

unsigned connection_budget::shed_stalled_handshakes(std::chrono::steady_clock::duration silent,
                                                    std::chrono::steady_clock::duration stalled) {
  std::vector<std::function<void()>> victims;
  {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    const auto silent_since = now - silent, stalled_since = now - stalled;
    for (auto it = anonymous_.begin(); it != anonymous_.end() && (*it)->since <= silent_since;) {
      auto candidate = *it++;  // oldest first; shed_entry erases it from the list
      if (candidate->handshaking && (candidate->silent || candidate->since <= stalled_since))
        victims.push_back(shed_entry(std::move(candidate)));
    }
  }
  for (auto& v : victims) v();
  return static_cast<unsigned>(victims.size());
}

connection_budget::slot::~slot() {
  if (entry_) budget_->release(*entry_);
}

void connection_budget::slot::move_to(std::string key) {
  std::vector<std::function<void()>> victims;
  {
    std::lock_guard lock(budget_->mutex_);
    auto& e = *entry_;
    if (e.now != entry::state::anonymous || e.key == key) return;
    if (auto it = budget_->per_address_.find(e.key);
        it != budget_->per_address_.end() && --it->second == 0)
      budget_->per_address_.erase(it);
    e.key = std::move(key);
    for (;;) {
      auto it = budget_->per_address_.find(e.key);
      if (it == budget_->per_address_.end() || it->second < budget_->policy_.max_per_address) break;
      auto victim = budget_->pick_victim(budget_->anonymous_, e.key, &e);
      if (!victim) break;
      victims.push_back(std::move(victim));
    }
    ++budget_->per_address_[e.key];
  }
  for (auto& v : victims) v();
}

bool connection_budget::slot::authenticated(const std::string& credential) {
  std::function<void()> victim;
  {
    std::lock_guard lock(budget_->mutex_);
    auto& e = *entry_;
    if (e.now != entry::state::anonymous) return false;
    budget_->forget(e);
    auto& mine = budget_->by_credential_[credential];
    if (mine.size() >= budget_->policy_.max_per_credential)
      victim = budget_->pick_victim(mine, {}, &e);
    e.now = entry::state::authenticated;
    e.key = credential;
    e.list = &budget_->by_credential_[credential];  // pick_victim may have erased `mine`
    e.where = e.list->insert(e.list->end(), entry_);
    ++budget_->authenticated_;
  }
  if (victim) victim();
  return true;
}

void connection_budget::slot::handshake_done() {
  std::lock_guard lock(budget_->mutex_);
  entry_->handshaking = false;
  entry_->in_flight.done();
}

void connection_budget::slot::heard_from() {
  std::lock_guard lock(budget_->mutex_);
  entry_->silent = false;
}

bool connection_budget::slot::is_authenticated() const {
  std::lock_guard lock(budget_->mutex_);
  return entry_->now == entry::state::authenticated;
}

}  // namespace valise::server
