#include "cluster/leader.hpp"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

#include "sql/sql.hpp"

namespace valise::server::cluster {
namespace {

// "valise" in ASCII, then 2: beside the writers' lock (…0001, held by
// transactions only, sql/postgresql_backend.cpp).
constexpr std::int64_t leader_lock = 0x76616c6973650002;

}  // namespace

struct leader::session {
  std::optional<sql::connection> db;
  bool told_unreachable = false;  // the log says it once per outage
};

leader::leader(const common::wiped_string& url, hooks on_change, std::chrono::milliseconds interval)
    : url_(url),
      hooks_(std::move(on_change)),
      interval_(interval),
      session_(std::make_unique<session>()) {}

leader::~leader() {
  stop();
}

void leader::start() {
  if (url_.value.empty()) {
    change(true);
    return;
  }
  step();
  thread_ = std::thread([this] { run(); });
}

void leader::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  // Closing the connection releases the lock: another node takes over at
  // its next try instead of after a timeout.
  session_->db.reset();
  if (leading()) change(false);
}

void leader::run() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      if (cv_.wait_for(lock, interval_, [this] { return stopping_; })) return;
    }
    step();
  }
}

void leader::step() {
  auto& s = *session_;
  if (!s.db) {
    std::string why;
    auto opened = sql::connection::open(url_.value, why);
    if (!opened) {
      if (!s.told_unreachable)
        spdlog::warn("leader: cannot reach the database ({}); trying again", why);
      s.told_unreachable = true;
      if (leading()) change(false);
      return;
    }
    s.db.emplace(std::move(*opened));
    s.told_unreachable = false;
  }
  // Tried again by the holder too: true while this session holds it (each
  // try stacks one more hold on the session's lock, all released with the
  // connection), so a connection that was lost and reopened underneath is
  // seen for what it is, a session that may not hold the lock.
  std::optional<bool> held;
  {
    auto stmt = s.db->prepare("SELECT pg_try_advisory_lock(?)");
    if (stmt) {
      stmt->bind(leader_lock);
      if (auto row = stmt->step(); row && *row) held = stmt->integer(0) != 0;
    }
  }
  if (!held) {
    spdlog::warn("leader: lost the database connection ({})", s.db->error_message());
    s.db.reset();
    if (leading()) change(false);
    return;
  }
  if (*held != leading()) change(*held);
}

void leader::change(bool now_leading) {
  leading_.store(now_leading, std::memory_order_relaxed);
  if (url_.value.empty()) {  // SQLite: nothing to say, the one process leads
    if (now_leading && hooks_.elected) hooks_.elected();
    if (!now_leading && hooks_.deposed) hooks_.deposed();
    return;
  }
  if (now_leading) {
    spdlog::info(
        "leader: this node now runs retention, helpdesk resolutions, outbox deliveries, audit "
        "checkpoints and the reconcile of files");
    if (hooks_.elected) hooks_.elected();
  } else {
    spdlog::info("leader: no longer leader (another node runs retention and the other jobs)");
    if (hooks_.deposed) hooks_.deposed();
  }
}

std::string node_name(std::string_view listen) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return node_name(host, listen);
}

std::string node_name(std::string_view host, std::string_view listen) {
  std::string name = "valise-server " + std::string(host) + " " + std::string(listen);
  // NAMEDATALEN - 1 bytes, each printable ASCII, or PostgreSQL cuts or
  // rewrites the name and `status` no longer finds it (or finds another
  // node's with the same first 63 bytes).
  constexpr std::size_t kept = 63;
  constexpr std::size_t hex_digits = 16;
  auto printable = [](char c) { return c >= 0x20 && c <= 0x7e; };
  if (name.size() <= kept && std::ranges::all_of(name, printable)) return name;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int n = 0;
  EVP_Digest(name.data(), name.size(), digest.data(), &n, EVP_sha256(), nullptr);
  std::string fitted = name.substr(0, kept - 1 - hex_digits);
  for (auto& c : fitted)
    if (!printable(c)) c = '?';
  fitted += ' ';
  static constexpr char digits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < hex_digits / 2; ++i) {
    fitted += digits[digest[i] >> 4];
    fitted += digits[digest[i] & 15];
  }
  return fitted;
}

result<std::optional<std::string>> leader_name(sql::connection& db) {
  // A bigint advisory lock shows in pg_locks as its high and low 32 bits
  // (classid, objid) with objsubid 1.
  const auto key = static_cast<std::uint64_t>(leader_lock);
  const std::string sql =
      "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
      "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.classid = " +
      std::to_string(key >> 32) + " AND l.objid = " + std::to_string(key & 0xffffffffU) +
      " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())";
  auto stmt = db.prepare(sql);
  if (!stmt) return stmt.error();
  auto row = stmt->step();
  if (!row) return row.error();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(stmt->text(0));
}

}  // namespace valise::server::cluster
