// Enrollment tokens, agents and their certificates.
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "store/secrets.hpp"
#include "store/sql_store.hpp"

namespace valise::server {
namespace {

// Columns 0-10 and 13 are read_agent's; the previous certificate is 11-12.
constexpr std::string_view agent_columns =
    "SELECT id, hostname, os, kernel, version, profiles, cert_sha256, cert_expires_at, "
    "enrolled_at, last_seen, revoked_at, previous_cert_sha256, previous_cert_expires_at, "
    "max_upload_bytes FROM agents ";

// last_seen is written at most this often per agent: a long-polling agent
// authenticates every request, and each write would be an fsync. As often
// as the agents' heartbeat (which writes it anyway): at 30 s, 10,000 agents
// polling every 50 s made 200 fsyncs a second under the store's lock, and
// technicians' calls waited behind them (docs/performance.md, "Many agents").
constexpr unix_time last_seen_resolution = 300;

agent_info read_agent(const sql::statement& s) {
  agent_info a;
  a.id = s.text(0);
  a.facts = {s.text(1), s.text(2), s.text(3), s.text(4), names_from_json(s.text(5))};
  a.cert_sha256 = s.text(6);
  a.cert_expires_at = s.integer(7);
  a.enrolled_at = s.integer(8);
  a.last_seen = s.integer(9);
  if (!s.is_null(10)) a.revoked_at = s.integer(10);
  if (!s.is_null(13)) a.facts.max_upload_bytes = s.size(13);
  return a;
}

}  // namespace

result<agent_info> sql_store::find_agent(const std::string& id) {
  auto stmt = db_.prepare(std::string(agent_columns) + "WHERE id = ?");
  if (!stmt) return stmt.error();
  auto row = stmt->bind(id).step();
  if (!row) return row.error();
  if (!*row) return store_errc::not_found;
  return read_agent(*stmt);
}

result<new_enroll_token> sql_store::create_enroll_token(const actor& by, unix_time expires_at) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  new_enroll_token t{{random_id("enr_"), now_utc(), expires_at}, random_secret("vse_")};
  wiped_string hash{sha256_raw(t.secret)};
  auto insert = db_.prepare(
      "INSERT INTO enroll_tokens (id, secret_sha256, created_by, created_at, expires_at) "
      "VALUES (?, ?, ?, ?, ?)");
  if (!insert) return insert.error();
  if (auto r = insert->bind(t.info.id)
                   .bind_blob(hash.value)
                   .bind(by.label())
                   .bind(t.info.created_at)
                   .bind(expires_at)
                   .run();
      !r)
    return r.error();
  boost::json::object detail{{"id", t.info.id}, {"expires_at", expires_at}};
  if (auto r = append_audit(by.label(), "enroll_token.created", "", boost::json::serialize(detail));
      !r)
    return r.error();
  if (auto r = tx->commit(); !r) return r.error();
  return t;
}

result<void> sql_store::check_enroll_token(const std::string& secret, unix_time now) {
  wiped_string hash{sha256_raw(secret)};
  std::lock_guard lock(mutex_);
  auto stmt = db_.prepare(
      "SELECT 1 FROM enroll_tokens WHERE secret_sha256 = ? AND used_at IS NULL AND expires_at > ?");
  if (!stmt) return stmt.error();
  auto row = stmt->bind_blob(hash.value).bind(now).step();
  if (!row) return row.error();
  if (!*row) return store_errc::not_found;
  return {};
}

result<agent_info> sql_store::enroll_agent(const std::string& secret, unix_time now,
                                           const agent_facts& facts,
                                           const certificate_issuer& issue) {
  wiped_string hash{sha256_raw(secret)};
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  std::string token_id;
  {
    auto stmt = db_.prepare(
        "SELECT id FROM enroll_tokens WHERE secret_sha256 = ? AND used_at IS NULL AND "
        "expires_at > ?");
    if (!stmt) return stmt.error();
    auto row = stmt->bind_blob(hash.value).bind(now).step();
    if (!row) return row.error();
    if (!*row) return store_errc::not_found;
    token_id = stmt->text(0);
  }
  agent_info a;
  a.id = random_id("agt_");
  a.facts = facts;
  a.enrolled_at = now;
  a.last_seen = now;
  // Signed inside the transaction: a CSR the CA refuses leaves the token unused.
  auto cert = issue(a.id);
  if (!cert) return cert.error();
  a.cert_sha256 = cert->sha256;
  a.cert_expires_at = cert->expires_at;
  auto use = db_.prepare("UPDATE enroll_tokens SET used_at = ?, agent_id = ? WHERE id = ?");
  if (!use) return use.error();
  if (auto r = use->bind(now).bind(a.id).bind(token_id).run(); !r) return r.error();
  auto insert = db_.prepare(
      "INSERT INTO agents (id, cert_sha256, cert_expires_at, hostname, os, kernel, version, "
      "profiles, enrolled_at, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert) return insert.error();
  if (auto r = insert->bind(a.id)
                   .bind(a.cert_sha256)
                   .bind(a.cert_expires_at)
                   .bind(facts.hostname)
                   .bind(facts.os)
                   .bind(facts.kernel)
                   .bind(facts.version)
                   .bind(to_json_text(facts.profiles))
                   .bind(now)
                   .bind(now)
                   .run();
      !r)
    return r.error();
  boost::json::object detail{{"agent", a.id},
                             {"enroll_token", token_id},
                             {"hostname", facts.hostname},
                             {"os", facts.os},
                             {"version", facts.version},
                             {"cert_sha256", a.cert_sha256},
                             {"cert_expires_at", a.cert_expires_at}};
  if (auto r = append_audit("agent:" + a.id, "agent.enrolled", "", boost::json::serialize(detail));
      !r)
    return r.error();
  if (auto r = tx->commit(); !r) return r.error();
  return a;
}

result<agent_info> sql_store::authenticate_agent(const std::string& cert_sha256, unix_time now) {
  std::lock_guard lock(mutex_);
  auto stmt = db_.prepare(std::string(agent_columns) +
                          "WHERE cert_sha256 = ?1 OR previous_cert_sha256 = ?1");
  if (!stmt) return stmt.error();
  auto row = stmt->bind(cert_sha256).step();
  if (!row) return row.error();
  if (!*row) return store_errc::not_found;
  agent_info a = read_agent(*stmt);
  const bool presented_previous = a.cert_sha256 != cert_sha256;
  const bool has_previous = !stmt->is_null(11);
  const unix_time presented_expires = presented_previous ? stmt->integer(12) : a.cert_expires_at;
  // The TLS handshake checked the expiry, but a resumed session skips it.
  if (presented_expires <= now) return store_errc::not_found;
  if (a.revoked_at) return a;
  if (has_previous && !presented_previous) {
    // The renewed certificate is in use: the one it replaced retires.
    auto retire = db_.prepare(
        "UPDATE agents SET previous_cert_sha256 = NULL, previous_cert_expires_at = NULL "
        "WHERE id = ?");
    if (!retire) return retire.error();
    if (auto r = retire->bind(a.id).run(); !r) return r.error();
  }
  if (now - a.last_seen >= last_seen_resolution) {
    auto touch = db_.prepare("UPDATE agents SET last_seen = ? WHERE id = ?");
    if (!touch) return touch.error();
    if (auto r = touch->bind(now).bind(a.id).run(); !r) return r.error();
    a.last_seen = now;
  }
  return a;
}

result<agent_info> sql_store::get_agent(const std::string& id) {
  std::lock_guard lock(mutex_);
  return find_agent(id);
}

result<std::vector<agent_info>> sql_store::list_agents(const std::string& after,
                                                       std::size_t limit) {
  std::lock_guard lock(mutex_);
  if (!after.empty())
    if (auto known = find_agent(after); !known) return known.error();
  // Only the page's rows are read and parsed: a console listing 10,000
  // agents a page at a time no longer has every row cross the socket.
  auto stmt = db_.prepare(
      std::string(agent_columns) +
      (after.empty()
           ? ""
           : "WHERE (enrolled_at, id) > (SELECT enrolled_at, id FROM agents WHERE id = ?) ") +
      "ORDER BY enrolled_at, id LIMIT ?");
  if (!stmt) return stmt.error();
  if (!after.empty()) stmt->bind(after);
  stmt->bind(sql_limit(limit));
  std::vector<agent_info> out;
  if (auto r = stmt->each([&] { out.push_back(read_agent(*stmt)); }); !r) return r.error();
  return out;
}

result<agent_info> sql_store::revoke_agent(const actor& by, const std::string& id) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto a = find_agent(id);
  if (!a || a->revoked_at) return a;
  const unix_time now = now_utc();
  auto update = db_.prepare("UPDATE agents SET revoked_at = ? WHERE id = ?");
  if (!update) return update.error();
  if (auto r = update->bind(now).bind(id).run(); !r) return r.error();
  boost::json::object detail{{"agent", id}, {"hostname", a->facts.hostname}};
  if (auto r = append_audit(by.label(), "agent.revoked", "", boost::json::serialize(detail)); !r)
    return r.error();
  // A revoked agent can finish nothing: its technicians learn it at once.
  if (auto r = fail_requests("agent_id = ?", id, "agent revoked", by.label()); !r) return r.error();
  if (auto r = db_.notify(wake_channel, id); !r) return r.error();  // its long-poll, on any node
  if (auto r = tx->commit(); !r) return r.error();
  a->revoked_at = now;
  return a;
}

result<agent_info> sql_store::update_agent_facts(const actor& agent, const agent_facts& facts,
                                                 unix_time now) {
  std::lock_guard lock(mutex_);
  auto update = db_.prepare(
      "UPDATE agents SET hostname = ?, os = ?, kernel = ?, version = ?, profiles = ?, "
      "max_upload_bytes = ?, last_seen = ? WHERE id = ? AND revoked_at IS NULL");
  if (!update) return update.error();
  if (auto r = update->bind(facts.hostname)
                   .bind(facts.os)
                   .bind(facts.kernel)
                   .bind(facts.version)
                   .bind(to_json_text(facts.profiles))
                   .bind(facts.max_upload_bytes)
                   .bind(now)
                   .bind(agent.id)
                   .run();
      !r)
    return r.error();
  const bool changed = db_.changes() > 0;
  auto a = find_agent(agent.id);
  if (a && !changed) return store_errc::revoked;
  return a;
}

result<agent_info> sql_store::renew_agent_certificate(const actor& agent,
                                                      const std::string& presented,
                                                      const issued_certificate& cert) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto a = find_agent(agent.id);
  if (!a) return a.error();
  if (a->revoked_at) return store_errc::revoked;
  // Asked with the current certificate, it becomes the previous one; asked
  // with the previous one (an answer lost before), that one stays previous.
  auto update = db_.prepare(
      "UPDATE agents SET "
      "previous_cert_expires_at = CASE WHEN cert_sha256 = ?1 THEN cert_expires_at "
      "ELSE previous_cert_expires_at END, "
      "previous_cert_sha256 = CASE WHEN cert_sha256 = ?1 THEN cert_sha256 "
      "ELSE previous_cert_sha256 END, "
      "cert_sha256 = ?2, cert_expires_at = ?3 "
      "WHERE id = ?4 AND (cert_sha256 = ?1 OR previous_cert_sha256 = ?1)");
  if (!update) return update.error();
  if (auto r = update->bind(presented).bind(cert.sha256).bind(cert.expires_at).bind(agent.id).run();
      !r)
    return r.error();
  if (db_.changes() == 0) return store_errc::not_found;
  boost::json::object detail{
      {"agent", agent.id}, {"cert_sha256", cert.sha256}, {"cert_expires_at", cert.expires_at}};
  if (auto r = append_audit(agent.label(), "agent.certificate_renewed", "",
                            boost::json::serialize(detail));
      !r)
    return r.error();
  if (auto r = tx->commit(); !r) return r.error();
  a->cert_sha256 = cert.sha256;
  a->cert_expires_at = cert.expires_at;
  return a;
}

}  // namespace valise::server
