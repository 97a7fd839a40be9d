// Diagnostics requests: a technician asks an agent for a profile; the agent
// reports its progress and uploads the bundle that answers it.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "store/secrets.hpp"
#include "store/sql_store.hpp"

namespace valise::server {
namespace {

#define VALISE_REQUEST_FIELDS                                                              \
  "id, ticket_ref, agent_id, profile, since, until, recipients, state, bundle_id, error, " \
  "created_at, updated_at"
constexpr std::string_view request_columns = "SELECT " VALISE_REQUEST_FIELDS " FROM requests ";
// Newest `limit` first inside, then in the order they were made.
constexpr std::string_view request_list =
    "SELECT * FROM (SELECT " VALISE_REQUEST_FIELDS
    ", rowid AS n FROM requests "
    "WHERE (?1 = '' OR ticket_ref = ?1) AND (?2 = '' OR agent_id = ?2) AND (?3 = '' OR state = ?3) "
    "ORDER BY n DESC LIMIT ?4) AS newest ORDER BY n";
#undef VALISE_REQUEST_FIELDS

request_info read_request(const sql::statement& s) {
  request_info r;
  r.id = s.text(0);
  r.ticket_ref = s.text(1);
  r.agent_id = s.text(2);
  r.profile = s.text(3);
  if (!s.is_null(4)) r.since = s.integer(4);
  if (!s.is_null(5)) r.until = s.integer(5);
  r.recipients = names_from_json(s.text(6));
  r.state = parse_request_state(s.text(7)).value_or(request_state::failed);
  r.bundle_id = s.text(8);
  r.error = s.text(9);
  r.created_at = s.integer(10);
  r.updated_at = s.integer(11);
  return r;
}

sql::statement& bind_time(sql::statement& s, const std::optional<unix_time>& t) {
  return t ? s.bind(*t) : s.bind_null();
}

boost::json::object change_detail(const request_info& r, request_state to,
                                  const std::string& error) {
  boost::json::object detail{{"request", r.id},
                             {"agent", r.agent_id},
                             {"from", to_string(r.state)},
                             {"to", to_string(to)}};
  if (!error.empty()) detail["error"] = error;
  return detail;
}

// What the outbox says of a failed request.
boost::json::object failure_event(const request_info& r, const std::string& reason) {
  return {{"request", r.id}, {"agent", r.agent_id}, {"profile", r.profile}, {"reason", reason}};
}

}  // namespace

result<request_info> sql_store::find_request(const std::string& id) {
  auto stmt = db_.prepare(std::string(request_columns) + "WHERE id = ?");
  if (!stmt) return stmt.error();
  auto row = stmt->bind(id).step();
  if (!row) return row.error();
  if (!*row) return store_errc::not_found;
  return read_request(*stmt);
}

result<request_info> sql_store::create_request(const actor& by, const request_info& r) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto t = find_ticket(r.ticket_ref);
  if (!t) return t.error();
  if (t->status == ticket_status::resolved) return store_errc::ticket_resolved;
  auto a = find_agent(r.agent_id);
  if (!a) return a.error();
  if (a->revoked_at) return store_errc::revoked;
  request_info created = r;
  created.id = random_id("req_");
  created.state = request_state::queued;
  created.bundle_id.clear();
  created.error.clear();
  created.created_at = created.updated_at = now_utc();
  auto insert = db_.prepare(
      "INSERT INTO requests (id, ticket_ref, agent_id, profile, since, until, recipients, state, "
      "error, created_by, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', '', ?, ?, ?)");
  if (!insert) return insert.error();
  insert->bind(created.id).bind(created.ticket_ref).bind(created.agent_id).bind(created.profile);
  bind_time(*insert, created.since);
  bind_time(*insert, created.until);
  if (auto run = insert->bind(to_json_text(created.recipients))
                     .bind(by.label())
                     .bind(created.created_at)
                     .bind(created.updated_at)
                     .run();
      !run)
    return run.error();
  boost::json::object detail{
      {"request", created.id}, {"agent", created.agent_id}, {"profile", created.profile}};
  if (created.since) detail["since"] = *created.since;
  if (created.until) detail["until"] = *created.until;
  if (!created.recipients.empty()) {
    boost::json::array keys;
    for (const auto& k : created.recipients) keys.emplace_back(k);
    detail["recipients"] = std::move(keys);
  }
  if (auto a_r = append_audit(by.label(), "request.created", created.ticket_ref,
                              boost::json::serialize(detail));
      !a_r)
    return a_r.error();
  if (auto f = note_first_response(by, created.ticket_ref, created.created_at); !f)
    return f.error();
  // The agent may be long-polling another node.
  if (auto n = db_.notify(wake_channel, created.agent_id); !n) return n.error();
  if (auto c = tx->commit(); !c) return c.error();
  return created;
}

result<request_info> sql_store::get_request(const std::string& id) {
  std::lock_guard lock(mutex_);
  return find_request(id);
}

result<std::vector<request_info>> sql_store::list_requests(const request_filter& filter) {
  std::lock_guard lock(mutex_);
  // The newest `limit`, oldest first (an agent takes its jobs in order).
  auto stmt = db_.prepare(request_list);
  if (!stmt) return stmt.error();
  stmt->bind(filter.ticket_ref)
      .bind(filter.agent_id)
      .bind(filter.state ? to_string(*filter.state) : std::string_view())
      .bind(sql_limit(filter.limit));
  std::vector<request_info> out;
  if (auto r = stmt->each([&] { out.push_back(read_request(*stmt)); }); !r) return r.error();
  return out;
}

result<request_info> sql_store::update_request(const actor& agent, const std::string& id,
                                               const request_update& update) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto r = find_request(id);
  if (!r) return r.error();
  // Another agent's request does not exist for this one.
  if (r->agent_id != agent.id) return store_errc::not_found;
  if (is_terminal(r->state)) return store_errc::request_finished;
  if (!transition_allowed(r->state, update.state)) return store_errc::bad_state;
  if (update.state == request_state::done &&
      (update.bundle_id.empty() || update.bundle_id != r->bundle_id))
    return store_errc::bad_state;
  if (update.state == r->state) return r;  // a restarted agent repeating itself
  const std::string error = update.state == request_state::failed ? update.error : std::string();
  const unix_time now = now_utc();
  auto change =
      db_.prepare("UPDATE requests SET state = ?, error = ?, updated_at = ? WHERE id = ?");
  if (!change) return change.error();
  if (auto c = change->bind(to_string(update.state)).bind(error).bind(now).bind(id).run(); !c)
    return c.error();
  if (auto a = append_audit(agent.label(), "request.state_changed", r->ticket_ref,
                            boost::json::serialize(change_detail(*r, update.state, error)));
      !a)
    return a.error();
  if (update.state == request_state::failed)
    if (auto e = enqueue_event(r->ticket_ref, "request.failed", failure_event(*r, error)); !e)
      return e.error();
  if (auto c = tx->commit(); !c) return c.error();
  r->state = update.state;
  r->error = error;
  r->updated_at = now;
  return r;
}

result<void> sql_store::fail_requests(std::string_view where, const std::string& key,
                                      const std::string& reason, const std::string& actor_label) {
  std::vector<request_info> open;
  {
    auto stmt = db_.prepare(std::string(request_columns) + "WHERE " + std::string(where) +
                            " AND state NOT IN ('done', 'failed')");
    if (!stmt) return stmt.error();
    stmt->bind(key);
    if (auto r = stmt->each([&] { open.push_back(read_request(*stmt)); }); !r) return r;
  }
  const unix_time now = now_utc();
  for (const auto& r : open) {
    auto change =
        db_.prepare("UPDATE requests SET state = 'failed', error = ?, updated_at = ? WHERE id = ?");
    if (!change) return change.error();
    if (auto c = change->bind(reason).bind(now).bind(r.id).run(); !c) return c;
    if (auto a =
            append_audit(actor_label, "request.state_changed", r.ticket_ref,
                         boost::json::serialize(change_detail(r, request_state::failed, reason)));
        !a)
      return a;
    if (auto e = enqueue_event(r.ticket_ref, "request.failed", failure_event(r, reason)); !e)
      return e;
  }
  return {};
}

result<void> sql_store::check_upload_request(const actor& by, const upload_info& u) {
  auto r = find_request(u.request_id);
  if (!r) return r.error();
  if (r->agent_id != by.id) return store_errc::not_found;
  if (is_terminal(r->state)) return store_errc::request_finished;
  if (!r->bundle_id.empty()) return store_errc::has_bundle;
  if (r->ticket_ref != u.ticket_ref) return store_errc::bad_state;
  return {};
}

}  // namespace valise::server
