// Tokens, upload links and authentication.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "store/secrets.hpp"
#include "store/sql_store.hpp"

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

result<new_token> sql_store::create_token(const actor& by, role kind, const std::string& name) {
  if (kind == role::upload_link || name.empty()) return store_errc::bad_state;
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
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

result<void> sql_store::revoke_token(const actor& by, const std::string& id_or_name) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
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

result<std::vector<token_info>> sql_store::list_tokens() {
  std::lock_guard lock(mutex_);
  auto stmt = db_.prepare(
      "SELECT id, name, role, created_at, revoked FROM tokens ORDER BY created_at, rowid");
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

result<actor> sql_store::authenticate(const std::string& secret, unix_time now) {
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
  // A link dies with its ticket's resolution, its revocation or its expiry;
  // a known one says which (its holder's page tells the client).
  auto stmt = db_.prepare(
      "SELECT l.id, l.ticket_ref, l.expires_at, l.max_bytes, l.used_bytes, l.revoked, t.status "
      "FROM links l JOIN tickets t ON t.ref = l.ticket_ref WHERE l.secret_sha256 = ?");
  if (!stmt) return stmt.error();
  auto row = stmt->bind_blob(hash.value).step();
  if (!row) return row.error();
  if (!*row) return store_errc::not_found;
  // Resolution revokes a ticket's links: it is checked first.
  if (stmt->text(6) != "open") return store_errc::ticket_resolved;
  if (stmt->integer(5) != 0) return store_errc::link_revoked;
  if (stmt->integer(2) <= now) return store_errc::link_expired;
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

result<new_link> sql_store::create_link(const actor& by, const std::string& ticket_ref,
                                        const link_terms& terms) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto t = find_ticket(ticket_ref);
  if (!t) return t.error();
  if (t->status == ticket_status::resolved) return store_errc::ticket_resolved;
  new_link l{{random_id("lnk_"), ticket_ref, now_utc(), terms.expires_at, terms.max_bytes, 0, false,
              terms.mode, terms.recipients},
             random_secret(secret_prefix(role::upload_link))};
  wiped_string hash{sha256_raw(l.secret)};
  auto insert = db_.prepare(
      "INSERT INTO links (id, ticket_ref, secret_sha256, created_at, expires_at, max_bytes, mode, "
      "recipients) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert) return insert.error();
  if (auto r = insert->bind(l.info.id)
                   .bind(ticket_ref)
                   .bind_blob(hash.value)
                   .bind(l.info.created_at)
                   .bind(terms.expires_at)
                   .bind(terms.max_bytes)
                   .bind(to_string(terms.mode))
                   .bind(to_json_text(terms.recipients))
                   .run();
      !r)
    return r.error();
  boost::json::array keys;
  for (const auto& k : terms.recipients) keys.emplace_back(k);
  boost::json::object detail{{"id", l.info.id},
                             {"expires_at", terms.expires_at},
                             {"max_bytes", terms.max_bytes},
                             {"mode", to_string(terms.mode)},
                             {"recipients", std::move(keys)}};
  if (auto r = append_audit(by.label(), "link.created", ticket_ref, boost::json::serialize(detail));
      !r)
    return r.error();
  if (auto r = note_first_response(by, ticket_ref, l.info.created_at); !r) return r.error();
  if (auto r = tx->commit(); !r) return r.error();
  return l;
}

namespace {

constexpr const char* link_columns =
    "SELECT id, ticket_ref, created_at, expires_at, max_bytes, used_bytes, revoked, mode, "
    "recipients FROM links ";

link_info link_from_row(sql::statement& s) {
  return {s.text(0),
          s.text(1),
          s.integer(2),
          s.integer(3),
          s.size(4),
          s.size(5),
          s.integer(6) != 0,
          parse_link_mode(s.text(7)).value_or(link_mode::recipients),
          names_from_json(s.text(8))};
}

}  // namespace

result<link_info> sql_store::get_link(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto stmt = db_.prepare(std::string(link_columns) + "WHERE id = ?");
  if (!stmt) return stmt.error();
  auto row = stmt->bind(id).step();
  if (!row) return row.error();
  if (!*row) return store_errc::not_found;
  return link_from_row(*stmt);
}

result<std::vector<link_info>> sql_store::list_links(const std::string& ticket_ref) {
  std::lock_guard lock(mutex_);
  auto stmt =
      db_.prepare(std::string(link_columns) + "WHERE ticket_ref = ? ORDER BY created_at, rowid");
  if (!stmt) return stmt.error();
  stmt->bind(ticket_ref);
  std::vector<link_info> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return out;
    out.push_back(link_from_row(*stmt));
  }
}

result<void> sql_store::revoke_link(const actor& by, const std::string& id) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
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

result<void> sql_store::charge_link(const actor& by, std::uint64_t bytes) {
  if (by.kind != role::upload_link) return {};
  auto update = db_.prepare(
      "UPDATE links SET used_bytes = used_bytes + ?1 "
      "WHERE id = ?2 AND used_bytes + ?1 <= max_bytes");
  if (!update) return update.error();
  if (auto r = update->bind(bytes).bind(by.id).run(); !r) return r;
  if (db_.changes() == 0) return store_errc::budget_exceeded;
  return {};
}

result<std::uint64_t> sql_store::reserve_link_bytes_locked(const std::string& upload_id,
                                                           std::uint64_t want) {
  std::string link_id;
  std::uint64_t held = 0;
  std::uint64_t used = 0;
  std::uint64_t max = 0;
  {
    auto stmt = db_.prepare(
        "SELECT l.id, u.link_charged, l.used_bytes, l.max_bytes FROM uploads u "
        "LEFT JOIN links l ON l.id = u.owner_id WHERE u.id = ?");
    if (!stmt) return stmt.error();
    auto row = stmt->bind(upload_id).step();
    if (!row) return row.error();
    // Gone while a PATCH streams (its ticket resolved, or it expired): no
    // more bytes, or they would be charged to nothing and pass the budget.
    if (!*row) return store_errc::not_found;
    if (stmt->is_null(0)) return want;  // not a link's upload: no budget to charge
    link_id = stmt->text(0);
    held = stmt->size(1);
    used = stmt->size(2);
    max = stmt->size(3);
  }
  // used counts `held`; what is left of the budget may be added to it.
  const std::uint64_t room = max > used ? max - used : 0;
  const std::uint64_t now_held = want <= held ? want : held + std::min(want - held, room);
  if (now_held == held) return held;
  auto link = db_.prepare("UPDATE links SET used_bytes = used_bytes - ?1 + ?2 WHERE id = ?3");
  if (!link) return link.error();
  if (auto r = link->bind(held).bind(now_held).bind(link_id).run(); !r) return r.error();
  auto upload = db_.prepare("UPDATE uploads SET link_charged = ? WHERE id = ?");
  if (!upload) return upload.error();
  if (auto r = upload->bind(now_held).bind(upload_id).run(); !r) return r.error();
  return now_held;
}

}  // namespace valise::server
