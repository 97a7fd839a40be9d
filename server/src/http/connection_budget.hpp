// Who may hold the server's connections. A connection starts anonymous (TLS
// handshake, a first request not yet authenticated) and becomes
// authenticated once it shows an enrolled agent's certificate or a valid
// token. Anonymous connections have a budget of their own and a cap per
// client address; when either is full, the oldest anonymous connection is
// shed to make room, so a flood of idle connections ends its own members,
// never an agent or a technician. Only when authenticated connections alone
// fill max_connections is a newcomer refused (503).
#pragma once

#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace valise::server {

struct connection_policy {
  unsigned max_connections = 10000;  // every connection
  unsigned max_anonymous = 1000;     // not yet authenticated
  unsigned max_per_address = 32;     // anonymous ones from one address_key
};

class connection_budget {
  struct entry;

 public:
  explicit connection_budget(connection_policy policy) : policy_(policy) {}

  // One connection's place, released when destroyed. Used from the
  // connection's own strand; the budget may shed it from any thread.
  class slot {
   public:
    slot(slot&& other) noexcept : budget_(other.budget_), entry_(std::move(other.entry_)) {}
    slot& operator=(slot&&) = delete;
    ~slot();
    // Counts the connection under the client's real address (from a PROXY
    // header); may shed an older connection of that address.
    void move_to(std::string key);
    // An agent's certificate or a valid token: never shed from now on.
    void authenticated();
    bool is_authenticated() const;

   private:
    friend class connection_budget;
    slot(connection_budget& budget, std::shared_ptr<entry> e)
        : budget_(&budget), entry_(std::move(e)) {}
    connection_budget* budget_;
    std::shared_ptr<entry> entry_;
  };

  // A new connection from `key`; `shed` ends it soon (called from any
  // thread, once at most). Nullopt: authenticated connections hold every
  // place, answer 503.
  std::optional<slot> admit(std::string key, std::function<void()> shed);

  struct counts {
    unsigned anonymous = 0;
    unsigned authenticated = 0;
    unsigned long long shed = 0;  // since start
  };
  counts current() const;

 private:
  using entry_list = std::list<std::shared_ptr<entry>>;
  struct entry {
    std::string key;
    std::function<void()> shed;
    enum class state { anonymous, authenticated, shed, released } now = state::anonymous;
    entry_list::iterator where;  // in anonymous_, while anonymous
  };

  // Under the lock: takes `e` out of the anonymous accounting.
  void forget_anonymous(entry& e);
  // Under the lock: marks the oldest anonymous entry (of `key`, or of all
  // if empty) shed, and returns its callback.
  std::function<void()> pick_victim(const std::string& key, const entry* spare);
  // Under the lock: what must be shed for one more anonymous entry of `key`.
  std::vector<std::function<void()>> make_room(const std::string& key, const entry* spare);
  void release(entry& e);

  const connection_policy policy_;
  mutable std::mutex mutex_;
  entry_list anonymous_;  // oldest first
  std::unordered_map<std::string, unsigned> per_address_;
  unsigned authenticated_ = 0;
  unsigned long long shed_ = 0;
};

}  // namespace valise::server
