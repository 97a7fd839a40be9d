// Tokens, upload links and authentication.
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "store/secrets.hpp"
#include "store/sqlite_store.hpp"

namespace valise::server {
namespace {

std::string_view secret_prefix(role kind) {
  switch (kind) {
    case role::admin:
      return "vsa_";
    case role::technician:
      return "vst_";
    case role::upload_link:
      return "vsl_";
    case role::agent:
      break;  // agents hold certificates, not tokens
  }
  return "vst_";
}

}  // namespace

result<new_token> sqlite_store::create_token(const actor& by, role kind, const std::string& name) {
  if (kind == role::upload_link || name.empty()) return store_errc::bad_state;
  std::lock_guard lock(mutex_);
  auto tx = sqlite::transaction::begin(db_);
  if (!tx) return tx.error();
  {
    auto taken = db_.prepare("SELECT 1 FROM tokens WHERE name = ? AND revoked = 0");
    if (!taken) return taken.error();
    auto row = taken->bind(name).step();
    if (!row) return row.error();
    if (*row) return store_errc::already_exists;
  }
  new_token t{{random_id("tok_"), name, kind, now_utc(), false},
              random_secret(secret_prefix(kind))};
  wiped_string hash{sha256_raw(t.secret)};
  auto insert = db_.prepare(
      "INSERT INTO tokens (id, name, role, secret_sha256, created_at) VALUES (?, ?, ?, ?, ?)");
  if (!insert) return insert.error();
  if (auto r = insert->bind(t.info.id)
                   .bind(name)
                   .bind(to_string(kind))
                   .bind_blob(hash.value)
                   .bind(t.info.created_at)
                   .run();
      !r)
    return r.error();
  boost::json::object detail{{"id", t.info.id}, {"name", name}, {"role", to_string(kind)}};
  if (auto r = append_audit(by.label(), "token.created", "", boost::json::serialize(detail)); !r)
    return r.error();
  if (auto r = tx->commit(); !r) return r.error();
  return t;
}

result<void> sqlite_store::revoke_token(const actor& by, const std::string& id_or_name) {
  std::lock_guard lock(mutex_);
  auto tx = sqlite::transaction::begin(db_);
  if (!tx) return tx.error();
  auto update =
      db_.prepare("UPDATE tokens SET revoked = 1 WHERE revoked = 0 AND (id = ?1 OR name = ?1)");
  if (!update) return update.error();
  if (auto r = update->bind(id_or_name).run(); !r) return r;
  if (db_.changes() == 0) return store_errc::not_found;
  boost::json::object detail{{"token", id_or_name}};
  if (auto r = append_audit(by.label(), "token.revoked", "", boost::json::serialize(detail)); !r)
    return r;
  return tx->commit();
}

result<std::vector<token_info>> sqlite_store::list_tokens() {
  std::lock_guard lock(mutex_);
  auto stmt =
      db_.prepare("SELECT id, name, role, created_at, revoked FROM tokens ORDER BY created_at, id");
  if (!stmt) return stmt.error();
  std::vector<token_info> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return out;
    out.push_back({stmt->text(0), stmt->text(1), parse_role(stmt->text(2)).value_or(role::admin),
                   stmt->integer(3), stmt->integer(4) != 0});
  }
}

result<actor> sqlite_store::authenticate(const std::string& secret, unix_time now) {
  wiped_string hash{sha256_raw(secret)};
  std::lock_guard lock(mutex_);
  {
    auto stmt =
        db_.prepare("SELECT id, name, role FROM tokens WHERE secret_sha256 = ? AND revoked = 0");
    if (!stmt) return stmt.error();
    auto row = stmt->bind_blob(hash.value).step();
    if (!row) return row.error();
    if (*row) {
      actor a;
      a.id = stmt->text(0);
      a.name = stmt->text(1);
      a.kind = parse_role(stmt->text(2)).value_or(role::technician);
      return a;
    }
  }
  // A link dies with its ticket's resolution, its expiry or its revocation.
  auto stmt = db_.prepare(
      "SELECT l.id, l.ticket_ref, l.expires_at, l.max_bytes, l.used_bytes FROM links l "
      "JOIN tickets t ON t.ref = l.ticket_ref "
      "WHERE l.secret_sha256 = ? AND l.revoked = 0 AND l.expires_at > ? AND t.status = 'open'");
  if (!stmt) return stmt.error();
  auto row = stmt->bind_blob(hash.value).bind(now).step();
  if (!row) return row.error();
  if (!*row) return store_errc::not_found;
  actor a;
  a.kind = role::upload_link;
  a.id = stmt->text(0);
  a.name = a.id;
  a.ticket_ref = stmt->text(1);
  a.expires_at = stmt->integer(2);
  a.max_bytes = stmt->size(3);
  a.used_bytes = stmt->size(4);
  return a;
}

result<new_link> sqlite_store::create_link(const actor& by, const std::string& ticket_ref,
                                           unix_time expires_at, std::uint64_t max_bytes) {
  std::lock_guard lock(mutex_);
  auto tx = sqlite::transaction::begin(db_);
  if (!tx) return tx.error();
  auto t = find_ticket(ticket_ref);
  if (!t) return t.error();
  if (t->status == ticket_status::resolved) return store_errc::ticket_resolved;
  new_link l{{random_id("lnk_"), ticket_ref, now_utc(), expires_at, max_bytes, 0, false},
             random_secret(secret_prefix(role::upload_link))};
  wiped_string hash{sha256_raw(l.secret)};
  auto insert = db_.prepare(
      "INSERT INTO links (id, ticket_ref, secret_sha256, created_at, expires_at, max_bytes) "
      "VALUES (?, ?, ?, ?, ?, ?)");
  if (!insert) return insert.error();
  if (auto r = insert->bind(l.info.id)
                   .bind(ticket_ref)
                   .bind_blob(hash.value)
                   .bind(l.info.created_at)
                   .bind(expires_at)
                   .bind(max_bytes)
                   .run();
      !r)
    return r.error();
  boost::json::object detail{
      {"id", l.info.id}, {"expires_at", expires_at}, {"max_bytes", max_bytes}};
  if (auto r = append_audit(by.label(), "link.created", ticket_ref, boost::json::serialize(detail));
      !r)
    return r.error();
  if (auto r = tx->commit(); !r) return r.error();
  return l;
}

result<std::vector<link_info>> sqlite_store::list_links(const std::string& ticket_ref) {
  std::lock_guard lock(mutex_);
  auto stmt = db_.prepare(
      "SELECT id, ticket_ref, created_at, expires_at, max_bytes, used_bytes, revoked FROM links "
      "WHERE ticket_ref = ? ORDER BY created_at, id");
  if (!stmt) return stmt.error();
  stmt->bind(ticket_ref);
  std::vector<link_info> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return out;
    out.push_back({stmt->text(0), stmt->text(1), stmt->integer(2), stmt->integer(3), stmt->size(4),
                   stmt->size(5), stmt->integer(6) != 0});
  }
}

result<void> sqlite_store::revoke_link(const actor& by, const std::string& id) {
  std::lock_guard lock(mutex_);
  auto tx = sqlite::transaction::begin(db_);
  if (!tx) return tx.error();
  std::string ticket_ref;
  {
    auto stmt = db_.prepare("SELECT ticket_ref FROM links WHERE id = ?");
    if (!stmt) return stmt.error();
    auto row = stmt->bind(id).step();
    if (!row) return row.error();
    if (!*row) return store_errc::not_found;
    ticket_ref = stmt->text(0);
  }
  auto update = db_.prepare("UPDATE links SET revoked = 1 WHERE id = ?");
  if (!update) return update.error();
  if (auto r = update->bind(id).run(); !r) return r;
  boost::json::object detail{{"id", id}};
  if (auto r = append_audit(by.label(), "link.revoked", ticket_ref, boost::json::serialize(detail));
      !r)
    return r;
  return tx->commit();
}

result<void> sqlite_store::charge_link(const actor& by, std::uint64_t bytes) {
  if (by.kind != role::upload_link) return {};
  auto update = db_.prepare(
      "UPDATE links SET used_bytes = used_bytes + ?1 "
      "WHERE id = ?2 AND used_bytes + ?1 <= max_bytes");
  if (!update) return update.error();
  if (auto r = update->bind(bytes).bind(by.id).run(); !r) return r;
  if (db_.changes() == 0) return store_errc::budget_exceeded;
  return {};
}

}  // namespace valise::server
