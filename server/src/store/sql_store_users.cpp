// Technician accounts and their browser sessions.
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <map>

#include "store/secrets.hpp"
#include "store/sql_store.hpp"

namespace valise::server {
namespace {

constexpr std::string_view user_columns =
    "SELECT name, role, disabled, created_at, last_sign_in FROM users ";

user_info read_user(const sql::statement& stmt) {
  user_info u;
  u.name = stmt.text(0);
  u.kind = parse_role(stmt.text(1)).value_or(role::technician);
  u.disabled = stmt.integer(2) != 0;
  u.created_at = stmt.integer(3);
  if (!stmt.is_null(4)) u.last_sign_in = stmt.integer(4);
  return u;
}

// Whether a session's last use is worth writing: at most every 30 s (or a
// tenth of the idle timeout if shorter), so that a console polling every
// second does not write the database every second.
bool worth_recording(const session_info& s, unix_time now, const session_policy& p) {
  const std::int64_t every = std::min<std::int64_t>(30, p.idle_timeout / 10);
  return now > s.last_used_at && now - s.last_used_at >= every;
}

// end_sessions' selections and what they bind.
constexpr std::string_view of_user = "\"user\" = ?";
void no_parameters(sql::statement&) {}
// A copy of the name: the function may outlive the caller's string.
std::function<void(sql::statement&)> by_name(std::string name) {
  return [name = std::move(name)](sql::statement& s) { s.bind(name); };
}
// The session's hash by reference, so that no copy outlives its wiped_string:
// only for a call within the hash's lifetime (end_sessions(…, by_id(h), …)).
std::function<void(sql::statement&)> by_id(const std::string& id_sha256) {
  return [&id_sha256](sql::statement& s) { s.bind_blob(id_sha256); };
}

}  // namespace

result<user_info> sql_store::find_user(const std::string& name) {
  auto stmt = db_.prepare(std::string(user_columns) + "WHERE name = ?");
  if (!stmt) return stmt.error();
  auto row = stmt->bind(name).step();
  if (!row) return row.error();
  if (!*row) return store_errc::not_found;
  return read_user(*stmt);
}

result<user_info> sql_store::create_user(const actor& by, const user_info& u,
                                         const std::string& password_hash) {
  if (u.kind != role::admin && u.kind != role::technician) return store_errc::bad_state;
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  if (auto found = find_user(u.name); found)
    return store_errc::already_exists;
  else if (found.error() != store_errc::not_found)
    return found.error();
  user_info out = u;
  out.disabled = false;
  out.created_at = now_utc();
  out.last_sign_in.reset();
  auto insert =
      db_.prepare("INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)");
  if (!insert) return insert.error();
  if (auto r = insert->bind(out.name)
                   .bind(to_string(out.kind))
                   .bind(password_hash)
                   .bind(out.created_at)
                   .run();
      !r)
    return r.error();
  boost::json::object detail{{"name", out.name}, {"role", to_string(out.kind)}};
  if (auto r = append_audit(by.label(), "user.created", "", boost::json::serialize(detail)); !r)
    return r.error();
  if (auto r = tx->commit(); !r) return r.error();
  return out;
}

result<std::vector<user_info>> sql_store::list_users() {
  std::lock_guard lock(mutex_);
  auto stmt = db_.prepare(std::string(user_columns) + "ORDER BY name");
  if (!stmt) return stmt.error();
  std::vector<user_info> out;
  if (auto r = stmt->each([&] { out.push_back(read_user(*stmt)); }); !r) return r.error();
  return out;
}

result<store::user_credentials> sql_store::get_user_credentials(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto stmt = db_.prepare(
      "SELECT name, role, disabled, created_at, last_sign_in, password_hash FROM users "
      "WHERE name = ?");
  if (!stmt) return stmt.error();
  auto row = stmt->bind(name).step();
  if (!row) return row.error();
  if (!*row) return store_errc::not_found;
  return user_credentials{read_user(*stmt), stmt->text(5)};
}

result<void> sql_store::end_sessions(std::string_view where,
                                     const std::function<void(sql::statement&)>& bind,
                                     const std::string& reason, const std::string& actor_label) {
  std::map<std::string, std::int64_t> ended;  // per user
  {
    auto stmt = db_.prepare("SELECT \"user\" FROM sessions WHERE " + std::string(where));
    if (!stmt) return stmt.error();
    bind(*stmt);
    if (auto r = stmt->each([&] { ++ended[stmt->text(0)]; }); !r) return r;
  }
  if (ended.empty()) return {};
  auto remove = db_.prepare("DELETE FROM sessions WHERE " + std::string(where));
  if (!remove) return remove.error();
  bind(*remove);
  if (auto r = remove->run(); !r) return r;
  for (const auto& [user, count] : ended) {
    boost::json::object detail{{"user", user}, {"reason", reason}, {"sessions", count}};
    if (auto r = append_audit(actor_label, "session.ended", "", boost::json::serialize(detail)); !r)
      return r;
  }
  return {};
}

result<void> sql_store::set_user_password(const actor& by, const std::string& name,
                                          const std::string& password_hash) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto u = find_user(name);
  if (!u) return u.error();
  auto update = db_.prepare("UPDATE users SET password_hash = ? WHERE name = ?");
  if (!update) return update.error();
  if (auto r = update->bind(password_hash).bind(u->name).run(); !r) return r;
  boost::json::object detail{{"name", u->name}};
  if (auto r =
          append_audit(by.label(), "user.password_changed", "", boost::json::serialize(detail));
      !r)
    return r;
  // Whoever learnt the old password is signed out with it.
  if (auto r = end_sessions(of_user, by_name(u->name), "password changed", by.label()); !r)
    return r;
  return tx->commit();
}

result<void> sql_store::rehash_user_password(const std::string& name, const std::string& old_hash,
                                             const std::string& new_hash) {
  std::lock_guard lock(mutex_);
  auto update =
      db_.prepare("UPDATE users SET password_hash = ? WHERE name = ? AND password_hash = ?");
  if (!update) return update.error();
  if (auto r = update->bind(new_hash).bind(name).bind(old_hash).run(); !r) return r;
  if (db_.changes() == 0) return store_errc::not_found;
  return {};
}

result<user_info> sql_store::set_user_disabled(const actor& by, const std::string& name,
                                               bool disabled) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto u = find_user(name);
  if (!u) return u.error();
  if (u->disabled != disabled) {
    auto update = db_.prepare("UPDATE users SET disabled = ? WHERE name = ?");
    if (!update) return update.error();
    if (auto r = update->bind(disabled ? 1 : 0).bind(u->name).run(); !r) return r.error();
    boost::json::object detail{{"name", u->name}};
    if (auto r = append_audit(by.label(), disabled ? "user.disabled" : "user.enabled", "",
                              boost::json::serialize(detail));
        !r)
      return r.error();
    u->disabled = disabled;
  }
  if (disabled)
    if (auto r = end_sessions(of_user, by_name(u->name), "user disabled", by.label()); !r)
      return r.error();
  if (auto r = tx->commit(); !r) return r.error();
  return u;
}

result<new_session> sql_store::create_session(const std::string& user, unix_time now,
                                              const session_policy& policy,
                                              const std::string& address) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto u = find_user(user);
  if (!u) return u.error();
  if (u->disabled) return store_errc::not_found;
  // Nobody comes back for an expired session: they are ended here.
  const std::string expired = "last_used_at <= " + std::to_string(now - policy.idle_timeout) +
                              " OR created_at <= " + std::to_string(now - policy.lifetime);
  if (auto r = end_sessions(expired, no_parameters, "expired", actor::system().label()); !r)
    return r.error();
  // Bounded per user: the oldest ones make room.
  if (policy.max_per_user > 0) {
    const std::string oldest =
        "\"user\" = ?1 AND id_sha256 NOT IN (SELECT id_sha256 FROM sessions WHERE \"user\" = ?1 "
        "ORDER BY created_at DESC, rowid DESC LIMIT " +
        std::to_string(policy.max_per_user - 1) + ")";
    if (auto r =
            end_sessions(oldest, by_name(u->name), "too many sessions", actor::system().label());
        !r)
      return r.error();
  }
  new_session s;
  s.secret = random_secret("vss_");
  s.info = {sha256_raw(s.secret), u->name, u->kind, random_secret(""), now, now};
  auto insert = db_.prepare(
      "INSERT INTO sessions (id_sha256, \"user\", csrf, created_at, last_used_at) "
      "VALUES (?, ?, ?, ?, ?)");
  if (!insert) return insert.error();
  if (auto r = insert->bind_blob(s.info.id_sha256)
                   .bind(u->name)
                   .bind(s.info.csrf)
                   .bind(now)
                   .bind(now)
                   .run();
      !r)
    return r.error();
  auto signed_in = db_.prepare("UPDATE users SET last_sign_in = ? WHERE name = ?");
  if (!signed_in) return signed_in.error();
  if (auto r = signed_in->bind(now).bind(u->name).run(); !r) return r.error();
  boost::json::object detail{{"address", address}};
  if (auto r =
          append_audit("user:" + u->name, "session.created", "", boost::json::serialize(detail));
      !r)
    return r.error();
  if (auto r = tx->commit(); !r) return r.error();
  return s;
}

result<session_info> sql_store::authenticate_session(const std::string& secret, unix_time now,
                                                     const session_policy& policy,
                                                     bool background) {
  wiped_string hash{sha256_raw(secret)};
  std::lock_guard lock(mutex_);
  session_info s;
  {
    auto stmt = db_.prepare(
        "SELECT s.\"user\", u.role, s.csrf, s.created_at, s.last_used_at FROM sessions s "
        "JOIN users u ON u.name = s.\"user\" WHERE s.id_sha256 = ? AND u.disabled = 0");
    if (!stmt) return stmt.error();
    auto row = stmt->bind_blob(hash.value).step();
    if (!row) return row.error();
    if (!*row) return store_errc::not_found;
    s = {hash.value,    stmt->text(0),    parse_role(stmt->text(1)).value_or(role::technician),
         stmt->text(2), stmt->integer(3), stmt->integer(4)};
  }
  if (now >= session_expires_at(s, policy)) {
    auto tx = sql::transaction::begin(db_);
    if (!tx) return tx.error();
    const bool idle = s.last_used_at + policy.idle_timeout <= s.created_at + policy.lifetime;
    if (auto r = end_sessions("id_sha256 = ?", by_id(hash.value),
                              idle ? "idle timeout" : "lifetime over", actor::system().label());
        !r)
      return r.error();
    if (auto r = tx->commit(); !r) return r.error();
    return store_errc::not_found;
  }
  if (!background && worth_recording(s, now, policy)) {
    auto touch = db_.prepare("UPDATE sessions SET last_used_at = ? WHERE id_sha256 = ?");
    if (!touch) return touch.error();
    if (auto r = touch->bind(now).bind_blob(hash.value).run(); !r) return r.error();
    s.last_used_at = now;
  }
  return s;
}

result<void> sql_store::end_session(const actor& by, const session_info& s,
                                    const std::string& reason) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  if (auto r = end_sessions("id_sha256 = ?", by_id(s.id_sha256), reason, by.label()); !r) return r;
  return tx->commit();
}

}  // namespace valise::server
