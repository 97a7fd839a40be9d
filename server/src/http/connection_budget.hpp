// Who may hold the server's connections. A connection starts anonymous (TLS
// handshake, requests not yet authenticated) and becomes authenticated once
// a request shows valid credentials: an enrolled, unrevoked agent's
// certificate or a valid token. Anonymous connections have a budget of their
// own and a cap per client address; when either is full, the oldest
// anonymous connection is shed to make room, so a flood of idle connections
// ends its own members, never an agent or a technician. Authenticated
// connections are capped per credential instead (one agent or token needs a
// few; a leaked one must not take every place): over it, that credential's
// oldest is shed. Only when authenticated connections fill max_connections is
// a newcomer refused (503).
//
// Handshakes in flight are capped apart (max_handshakes): past it the
// server accepts nothing more and newcomers wait in the kernel's listen
// backlog, so that a crowd reconnecting at once (agents after a restart)
// queues instead of being accepted and then cut mid-handshake. The shedding
// above spares connections still in their handshake while any that finished
// it can go instead.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace valise::server {

struct connection_policy {
  unsigned max_connections = 16384;  // every connection
  unsigned max_anonymous = 1000;     // not yet authenticated
  unsigned max_per_address = 32;     // anonymous ones from one address_key
  unsigned max_per_credential = 32;  // authenticated ones of one agent or token
  unsigned max_handshakes = 256;     // PROXY header and TLS handshake in progress
};

class connection_budget {
  struct entry;

 public:
  explicit connection_budget(connection_policy policy) : policy_(policy) {}

  // One handshake in flight, counted from the accept to the handshake's
  // end (done(), or destroyed). Empty ones count nothing.
  class handshake {
   public:
    handshake() noexcept : budget_(nullptr) {}
    handshake(handshake&& other) noexcept : budget_(std::exchange(other.budget_, nullptr)) {}
    handshake& operator=(handshake&& other) noexcept {
      if (this != &other) {
        done();
        budget_ = std::exchange(other.budget_, nullptr);
      }
      return *this;
    }
    ~handshake() { done(); }
    void done();

   private:
    friend class connection_budget;
    explicit handshake(connection_budget& budget) : budget_(&budget) {}
    connection_budget* budget_;
  };
  // Taken by the accept loop for each connection it accepts.
  handshake start_handshake();
  // Whether another connection may be accepted now (fewer than
  // max_handshakes in flight).
  bool handshake_room() const;
  // Sheds every connection still in its handshake that has sent nothing
  // `silent` after its accept, or has not finished it `stalled` after
  // (`silent` < `stalled`): the ones holding the gate's places while it is
  // full; how many. A real handshake takes milliseconds of CPU, so one
  // still going after `stalled` waits on its client: a slow-loris sending
  // a byte at a time must not hold the gate shut for handshake_timeout.
  unsigned shed_stalled_handshakes(std::chrono::steady_clock::duration silent,
                                   std::chrono::steady_clock::duration stalled);

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
    // A request showed valid credentials (`credential` names them: one agent,
    // one token): no longer counted per address, and shed only for a newer
    // connection of the same credential. False if the connection was shed
    // meanwhile (it ends anyway) or was authenticated already.
    bool authenticated(const std::string& credential);
    bool is_authenticated() const;
    // The TLS handshake ended: from now on this connection is shed before
    // any still in their handshake, and its place at the gate is free.
    void handshake_done();
    // The client sent its first bytes (a ClientHello, a PROXY header).
    void heard_from();

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
  // `in_flight` (the accept loop's) is held until handshake_done() or the
  // connection ends.
  std::optional<slot> admit(std::string key, std::function<void()> shed, handshake in_flight = {});

  struct counts {
    unsigned anonymous = 0;
    unsigned authenticated = 0;
    unsigned handshakes = 0;      // in flight
    unsigned long long shed = 0;  // since start
  };
  counts current() const;

 private:
  using entry_list = std::list<std::shared_ptr<entry>>;
  struct entry {
    std::string key;  // address_key, or the credential once authenticated
    std::function<void()> shed;
    enum class state { anonymous, authenticated, shed, released } now = state::anonymous;
    entry_list* list = nullptr;  // anonymous_ or its credential's list, while in one
    entry_list::iterator where;
    handshake in_flight;  // until the handshake ends
    bool handshaking = true;
    bool silent = true;  // nothing received yet
    std::chrono::steady_clock::time_point since = std::chrono::steady_clock::now();
  };

  // Under the lock: takes `e` out of whatever it is counted in.
  void forget(entry& e);
  // Under the lock: marks the oldest entry of `list` (of `key` if not empty,
  // other than `spare`) shed, one that finished its handshake if any did;
  // returns its callback, or nothing.
  std::function<void()> pick_victim(entry_list& list, const std::string& key, const entry* spare);
  // Under the lock: marks `victim` shed; returns its callback.
  std::function<void()> shed_entry(std::shared_ptr<entry> victim);
  // Under the lock: what must be shed for one more anonymous entry of `key`.
  std::vector<std::function<void()>> make_room(const std::string& key, const entry* spare);
  void release(entry& e);

  const connection_policy policy_;
  mutable std::mutex mutex_;
  entry_list anonymous_;  // oldest first
  std::unordered_map<std::string, unsigned> per_address_;
  std::unordered_map<std::string, entry_list> by_credential_;  // oldest first in each
  unsigned authenticated_ = 0;
  unsigned long long shed_ = 0;
  std::atomic<unsigned> handshakes_ = 0;
};

}  // namespace valise::server
