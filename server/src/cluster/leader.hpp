// Which node runs what must run once (docs/cluster.md, "What must happen
// once"): the retention purge, helpdesk resolutions, outbox deliveries, the
// audit checkpoint and the reconcile of files. With PostgreSQL the leader is
// the node whose own connection holds a session-level advisory lock; the
// others try for it every few seconds, and the holder checks its connection
// at the same pace, stepping down if it is lost. PostgreSQL releases the lock
// when the holder's connection ends (a killed node's at once, a cut-off
// one's after the keepalives), so another node takes over within one try.
// With SQLite the one serving process is always the leader.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "sql/sql.hpp"
#include "valise/common/secret_file.hpp"

namespace valise::server::cluster {

class leader {
 public:
  struct hooks {
    std::function<void()> elected;  // this node now leads (on the leader's thread)
    std::function<void()> deposed;  // it no longer does
  };
  // `url`: the PostgreSQL connection URL (password included), or empty for
  // SQLite; the caller's, which outlives the leader (one wiped copy per node).
  leader(const common::wiped_string& url, hooks on_change,
         std::chrono::milliseconds interval = std::chrono::seconds(2));
  ~leader();  // stop()
  leader(const leader&) = delete;
  leader& operator=(const leader&) = delete;

  // SQLite: elected at once, on the caller's thread. PostgreSQL: the first
  // try is on the caller's thread too (a lone node leads from its start),
  // then a thread keeps trying and checking.
  void start();
  // Joins the thread; a leader says it is deposed and lets go of the lock.
  void stop();
  bool leading() const { return leading_.load(std::memory_order_relaxed); }

 private:
  void run();
  // One try or check; a connection that failed is dropped (opened again next time).
  void step();
  void change(bool leading);

  struct session;
  const common::wiped_string& url_;
  hooks hooks_;
  std::chrono::milliseconds interval_;
  std::unique_ptr<session> session_;  // the leader's thread only, after start()
  std::atomic<bool> leading_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

// What a node's connections call themselves (PostgreSQL's application_name,
// seen in pg_stat_activity): "valise-server HOST LISTEN" ([server] listen),
// so that `valise-server status` run with the node's configuration on its
// machine knows the leader's lock for its own. PostgreSQL keeps 63 bytes of
// printable ASCII: a longer name, or one with other bytes, becomes its first
// 46 bytes (others as '?'), a space and 16 hex digits of the whole name's
// SHA-256, so that it is kept as it is, stays the same at every start, and
// two names that differ anywhere still differ.
std::string node_name(std::string_view listen);
std::string node_name(std::string_view host, std::string_view listen);

// The application_name of the session that holds the leader's lock on `db`'s
// database (a node_name), or nullopt if no session does.
result<std::optional<std::string>> leader_name(sql::connection& db);

}  // namespace valise::server::cluster
