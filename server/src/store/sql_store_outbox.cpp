// The outbox's records: entries enqueued in the transaction of the change
// they report, attempts recorded by the delivery worker (outbox/), bounded
// per target.
#include <boost/json/serialize.hpp>

#include "store/secrets.hpp"
#include "store/sql_store.hpp"

namespace valise::server {
namespace {

#define VALISE_OUTBOX_FIELDS                                                               \
  "id, target, ticket_ref, event, payload, created_at, since, attempts, next_attempt_at, " \
  "last_status, last_error, delivered_at, state"
constexpr std::string_view outbox_columns = "SELECT " VALISE_OUTBOX_FIELDS " FROM outbox ";

outbox_state state_of(const std::string& text) {
  if (text == "delivered") return outbox_state::delivered;
  if (text == "failed") return outbox_state::failed;
  return outbox_state::pending;
}

outbox_entry read_entry(const sql::statement& s) {
  outbox_entry e;
  e.id = s.text(0);
  e.target = s.text(1);
  e.ticket_ref = s.text(2);
  e.event = s.text(3);
  e.payload = s.text(4);
  e.created_at = s.integer(5);
  e.since = s.integer(6);
  e.attempts = static_cast<std::uint32_t>(s.integer(7));
  e.next_attempt_at = s.integer(8);
  e.last_status = static_cast<unsigned>(s.integer(9));
  e.last_error = s.text(10);
  if (!s.is_null(11)) e.delivered_at = s.integer(11);
  e.state = state_of(s.text(12));
  return e;
}

}  // namespace

void sql_store::set_outbox_policy(outbox_policy policy) {
  std::lock_guard lock(mutex_);
  outbox_ = std::move(policy);
  announce_commits();
}

result<void> sql_store::enqueue_event(const std::string& ticket_ref, std::string_view event,
                                      boost::json::object data) {
  if (!outbox_.route) return {};
  outbox_subject subject{ticket_ref, {}};
  {
    auto ticket = db_.prepare("SELECT connector FROM tickets WHERE ref = ?");
    if (!ticket) return ticket.error();
    ticket->bind(ticket_ref);
    auto row = ticket->step();
    if (!row) return row.error();
    if (*row && !ticket->is_null(0)) subject.connector = ticket->text(0);
  }
  const auto targets = outbox_.route(subject, event);
  if (targets.empty()) return {};
  const unix_time now = now_utc();
  data["ticket"] = ticket_ref;
  const auto payload = boost::json::serialize(data);
  for (const auto& target : targets) {
    auto count = db_.prepare("SELECT COUNT(*) FROM outbox WHERE target = ? AND state = 'pending'");
    if (!count) return count.error();
    count->bind(target);
    if (auto row = count->step(); !row) return row.error();
    if (count->size(0) >= outbox_.max_pending_per_target) {
      // Dropped rather than queued: the trail says what the target missed.
      boost::json::object detail{{"target", target}, {"event", event}, {"pending", count->size(0)}};
      if (auto r =
              append_audit("system", "outbox.dropped", ticket_ref, boost::json::serialize(detail));
          !r)
        return r;
      continue;
    }
    auto insert = db_.prepare(
        "INSERT INTO outbox (id, target, ticket_ref, event, payload, created_at, since, "
        "next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!insert) return insert.error();
    if (auto r = insert->bind(random_id("msg_"))
                     .bind(target)
                     .bind(ticket_ref)
                     .bind(event)
                     .bind(payload)
                     .bind(now)
                     .bind(now)
                     .bind(now)
                     .run();
        !r)
      return r;
    // What is kept for the record stays bounded too.
    auto prune = db_.prepare(
        "DELETE FROM outbox WHERE target = ?1 AND ((state = 'delivered' AND delivered_at < ?2) "
        "OR (state = 'failed' AND id NOT IN (SELECT id FROM outbox WHERE target = ?1 AND state "
        "= 'failed' ORDER BY created_at DESC, rowid DESC LIMIT ?3)))");
    if (!prune) return prune.error();
    if (auto r = prune->bind(target)
                     .bind(now - outbox_.keep_delivered)
                     .bind(sql_limit(outbox_.max_failed_per_target))
                     .run();
        !r)
      return r;
    outbox_unannounced_ = true;
  }
  return {};
}

result<outbox_entry> sql_store::find_outbox(const std::string& id) {
  auto stmt = db_.prepare(std::string(outbox_columns) + "WHERE id = ?");
  if (!stmt) return stmt.error();
  stmt->bind(id);
  auto row = stmt->step();
  if (!row) return row.error();
  if (!*row) return store_errc::not_found;
  return read_entry(*stmt);
}

result<std::vector<outbox_entry>> sql_store::due_outbox(unix_time now, std::size_t limit) {
  std::lock_guard lock(mutex_);
  auto stmt = db_.prepare(std::string(outbox_columns) +
                          "WHERE state = 'pending' AND next_attempt_at <= ? "
                          "ORDER BY next_attempt_at, created_at, rowid LIMIT ?");
  if (!stmt) return stmt.error();
  stmt->bind(now).bind(sql_limit(limit));
  std::vector<outbox_entry> out;
  if (auto r = stmt->each([&] { out.push_back(read_entry(*stmt)); }); !r) return r.error();
  return out;
}

result<void> sql_store::record_outbox_attempt(const std::string& id, const outbox_attempt& a,
                                              unix_time now) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto e = find_outbox(id);
  if (!e) return e.error();
  if (e->state != outbox_state::pending) return store_errc::bad_state;
  using o = outbox_attempt::outcome;
  const char* state = a.result == o::delivered ? "delivered"
                      : a.result == o::give_up ? "failed"
                                               : "pending";
  auto change = db_.prepare(
      "UPDATE outbox SET attempts = attempts + 1, last_status = ?, last_error = ?, state = ?, "
      "next_attempt_at = ?, delivered_at = ? WHERE id = ?");
  if (!change) return change.error();
  change->bind(static_cast<std::int64_t>(a.status))
      .bind(a.result == o::delivered ? std::string() : a.error)
      .bind(std::string_view(state))
      .bind(a.result == o::retry ? a.next_attempt_at : now);
  if (a.result == o::delivered)
    change->bind(now);
  else
    change->bind_null();
  if (auto r = change->bind(id).run(); !r) return r;
  if (a.result != o::retry) {
    boost::json::object detail{{"id", id},
                               {"target", e->target},
                               {"event", e->event},
                               {"attempts", e->attempts + 1},
                               {"status", a.status}};
    if (a.result == o::give_up) detail["error"] = a.error;
    if (auto r = append_audit("system",
                              a.result == o::delivered ? "outbox.delivered" : "outbox.given_up",
                              e->ticket_ref, boost::json::serialize(detail));
        !r)
      return r;
  }
  return tx->commit();
}

result<void> sql_store::postpone_outbox(const std::string& target, unix_time until,
                                        const std::string& error) {
  std::lock_guard lock(mutex_);
  auto change = db_.prepare(
      "UPDATE outbox SET next_attempt_at = ?1, last_error = ?3 WHERE target = ?2 AND "
      "state = 'pending' AND next_attempt_at < ?1");
  if (!change) return change.error();
  return change->bind(until).bind(target).bind(error).run();
}

result<std::vector<outbox_entry>> sql_store::list_outbox(bool with_delivered, std::size_t limit) {
  std::lock_guard lock(mutex_);
  auto stmt = db_.prepare(std::string(outbox_columns) +
                          (with_delivered ? "" : "WHERE state != 'delivered' ") +
                          "ORDER BY created_at DESC, rowid DESC LIMIT ?");
  if (!stmt) return stmt.error();
  stmt->bind(sql_limit(limit));
  std::vector<outbox_entry> out;
  if (auto r = stmt->each([&] { out.push_back(read_entry(*stmt)); }); !r) return r.error();
  return out;
}

result<outbox_entry> sql_store::retry_outbox(const actor& by, const std::string& id) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto e = find_outbox(id);
  if (!e) return e.error();
  if (e->state == outbox_state::delivered) return store_errc::bad_state;
  const unix_time now = now_utc();
  auto change = db_.prepare(
      "UPDATE outbox SET state = 'pending', since = ?1, next_attempt_at = ?1 WHERE id = ?2");
  if (!change) return change.error();
  if (auto r = change->bind(now).bind(id).run(); !r) return r.error();
  boost::json::object detail{
      {"id", id}, {"target", e->target}, {"event", e->event}, {"was", to_string(e->state)}};
  if (auto r =
          append_audit(by.label(), "outbox.retried", e->ticket_ref, boost::json::serialize(detail));
      !r)
    return r.error();
  outbox_unannounced_ = true;
  if (auto r = tx->commit(); !r) return r.error();
  e->state = outbox_state::pending;
  e->since = now;
  e->next_attempt_at = now;
  return e;
}

result<outbox_counts> sql_store::count_outbox() {
  std::lock_guard lock(mutex_);
  auto stmt = db_.prepare(
      "SELECT target, SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), "
      "SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END) FROM outbox "
      "WHERE state != 'delivered' GROUP BY target");
  if (!stmt) return stmt.error();
  outbox_counts out;
  if (auto r = stmt->each([&] { out.targets[stmt->text(0)] = {stmt->size(1), stmt->size(2)}; }); !r)
    return r.error();
  return out;
}

}  // namespace valise::server
