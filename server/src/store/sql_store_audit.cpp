// The audit trail: appending records (HMAC-chained under the audit key),
// reading them, checkpoints to audit.head, and verification.
#include <limits>
#include <map>

#include "store/audit_files.hpp"
#include "store/sql_store.hpp"

namespace valise::server {
namespace {

using finding = store::checkpoint_problem;

// The newest record's seq and hash (0 and audit_genesis when there is none).
result<std::pair<std::int64_t, std::string>> chain_head(sql::connection& db) {
  auto last = db.prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
  if (!last) return last.error();
  auto row = last->step();
  if (!row) return row.error();
  if (!*row) return std::pair<std::int64_t, std::string>{0, audit_genesis};
  return std::pair<std::int64_t, std::string>{last->integer(0), last->text(1)};
}

// The stored hash of record `seq` (audit_genesis for 0), nullopt if absent.
result<std::optional<std::string>> hash_of(sql::connection& db, std::int64_t seq) {
  if (seq == 0) return std::optional<std::string>{audit_genesis};
  auto stmt = db.prepare("SELECT hash FROM audit WHERE seq = ?");
  if (!stmt) return stmt.error();
  stmt->bind(seq);
  auto row = stmt->step();
  if (!row) return row.error();
  if (!*row) return std::optional<std::string>{};
  return std::optional<std::string>{stmt->text(0)};
}

// Whether `c`, as the key sees it, may be trusted: nullopt if so.
std::optional<finding::kind> authenticity(const audit_key& key, const audit_checkpoint& c) {
  if (c.key_id != audit_key_id(key)) return finding::kind::other_key;
  if (!checkpoint_authentic(key, c)) return finding::kind::not_authentic;
  return std::nullopt;
}

}  // namespace

result<audit_key> open_audit_key(sql::connection& db, const std::filesystem::path& data_dir) {
  auto key = read_audit_key(data_dir);
  if (key || key.error() != std::errc::no_such_file_or_directory) return key;
  // Under the write lock: no record is appended between the count and the key.
  auto tx = sql::transaction::begin(db);
  if (!tx) return tx.error();
  auto stmt = db.prepare("SELECT keyed_from FROM audit_keyed");
  if (!stmt) return stmt.error();
  auto row = stmt->step();
  if (!row) return row.error();
  if (!*row) return store_errc::corrupt;
  const std::int64_t keyed_from = stmt->integer(0);
  auto head = chain_head(db);
  if (!head) return head.error();
  // A key made now could not verify records signed by the lost one, and
  // would hide whatever was done to them.
  if (head->first >= keyed_from) return store_errc::audit_key_missing;
  auto created = create_audit_key(data_dir, keyed_from);
  if (!created && created.error() == std::errc::file_exists) return read_audit_key(data_dir);
  if (!created) return created.error();
  // audit.head exists whenever the key does: its absence is then a sign.
  if (auto r = write_audit_head(
          data_dir, sign_checkpoint(*created, head->first, std::move(head->second), now_utc()));
      !r)
    return r.error();
  return created;
}

result<void> sql_store::append_audit(const std::string& actor_label, const std::string& action,
                                     const std::string& ticket_ref,
                                     const std::string& detail_json) {
  auto head = chain_head(db_);
  if (!head) return head.error();
  audit_record r{head->first + 1, now_utc(), actor_label, action, ticket_ref, detail_json, {}};
  r.hash = audit_hash(key_, head->second, r);
  auto insert = db_.prepare(
      "INSERT INTO audit (seq, time, actor, action, ticket_ref, detail, hash) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)");
  if (!insert) return insert.error();
  // Other nodes' event long-polls (docs/cluster.md): delivered at commit,
  // never for a rollback; PostgreSQL folds a transaction's identical ones.
  if (auto n = db_.notify(wake_channel, "*"); !n) return n;
  appended_ = true;
  unannounced_ = true;
  return insert->bind(r.seq)
      .bind(r.time)
      .bind(r.actor)
      .bind(r.action)
      .bind(r.ticket_ref)
      .bind(r.detail)
      .bind(r.hash)
      .run();
}

result<void> sql_store::audit(const actor& by, const std::string& action,
                              const std::string& ticket_ref, const std::string& detail_json) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  if (auto r = append_audit(by.label(), action, ticket_ref, detail_json); !r) return r;
  return tx->commit();
}

result<std::vector<audit_record>> sql_store::select_audit(
    std::string_view where, const std::function<void(sql::statement&)>& bind) {
  std::string sql = "SELECT seq, time, actor, action, ticket_ref, detail, hash FROM audit ";
  sql += where;
  auto stmt = db_.prepare(sql);
  if (!stmt) return stmt.error();
  bind(*stmt);
  std::vector<audit_record> out;
  if (auto r = stmt->each([&] {
        out.push_back({stmt->integer(0), stmt->integer(1), stmt->text(2), stmt->text(3),
                       stmt->text(4), stmt->text(5), stmt->text(6)});
      });
      !r)
    return r.error();
  return out;
}

result<std::vector<audit_record>> sql_store::audit_trail(const std::string& ticket_ref) {
  std::lock_guard lock(mutex_);
  return select_audit("WHERE ticket_ref = ? ORDER BY seq",
                      [&](sql::statement& s) { s.bind(ticket_ref); });
}

result<std::vector<audit_record>> sql_store::audit_trail_after(const std::string& ticket_ref,
                                                               std::int64_t seq,
                                                               std::size_t limit) {
  std::lock_guard lock(mutex_);
  return select_audit(
      "WHERE ticket_ref = ? AND seq > ? ORDER BY seq LIMIT ?",
      [&](sql::statement& s) { s.bind(ticket_ref).bind(seq).bind(sql_limit(limit)); });
}

result<std::vector<audit_record>> sql_store::audit_since(std::int64_t seq, std::size_t limit) {
  std::lock_guard lock(mutex_);
  return select_audit("WHERE seq > ? ORDER BY seq LIMIT ?",
                      [&](sql::statement& s) { s.bind(seq).bind(sql_limit(limit)); });
}

result<std::int64_t> sql_store::audit_last_seq() {
  std::lock_guard lock(mutex_);
  auto head = chain_head(db_);
  if (!head) return head.error();
  return head->first;
}

void sql_store::on_audit_committed(std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  audit_committed_ = std::move(fn);
  announce_commits();
}

void sql_store::announce_commits() {
  // After the commit, so that whoever it wakes reads the records. A rolled
  // back append leaves the flag set: the next commit wakes the long-polls
  // (or the outbox's worker) for nothing, and they look again and wait again.
  db_.on_commit([this] {
    if (unannounced_) {
      unannounced_ = false;
      if (audit_committed_) audit_committed_();
    }
    if (outbox_unannounced_) {
      outbox_unannounced_ = false;
      if (outbox_.enqueued) outbox_.enqueued();
    }
  });
}

result<store::checkpoint_report> sql_store::checkpoint_audit() {
  std::lock_guard lock(mutex_);
  return write_checkpoint();
}

result<store::checkpoint_report> sql_store::write_checkpoint() {
  // Under the write lock: the file moves with the records it counts, and
  // the server and a tool beside it write it in turn, never backwards.
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto head = chain_head(db_);
  if (!head) return head.error();
  auto old = read_audit_head(data_dir_);
  if (!old && old.error() == store_errc::corrupt) return store_errc::audit_mismatch;
  if (!old) return old.error();
  checkpoint_report report;
  report.head_was_missing = !*old;
  if (*old) {
    // The evidence of a removal or a rewrite is kept, never replaced.
    if (authenticity(key_, **old) || (*old)->records > head->first)
      return store_errc::audit_mismatch;
    auto then = hash_of(db_, (*old)->records);
    if (!then) return then.error();
    if (*then != (*old)->head) return store_errc::audit_mismatch;
  }
  auto checkpoint = *old && (*old)->records == head->first
                        ? **old
                        : sign_checkpoint(key_, head->first, head->second, now_utc());
  if (!*old || (*old)->records != head->first) {
    if (auto r = write_audit_head(data_dir_, checkpoint); !r) return r.error();
    report.written = true;
  }
  report.line = format_checkpoint(checkpoint);
  appended_ = false;
  return report;
}

result<store::verify_report> sql_store::verify_audit(
    const std::vector<std::string>& checkpoint_lines) {
  std::lock_guard lock(mutex_);
  verify_report report;
  // audit.head before the records: it only ever counts committed records, so
  // the chain read next holds all it counts.
  std::vector<std::pair<std::size_t, audit_checkpoint>> checkpoints;
  auto add = [&](std::size_t source, const std::optional<audit_checkpoint>& c) {
    if (!c)
      report.problems.push_back({finding::kind::unreadable, source});
    else if (auto bad = authenticity(key_, *c))
      report.problems.push_back({*bad, source, c->records, c->time, c->key_id});
    else
      checkpoints.emplace_back(source, *c);
  };
  auto head = read_audit_head(data_dir_);
  if (!head && head.error() == store_errc::corrupt)
    add(0, std::nullopt);
  else if (!head)
    return head.error();
  else if (!*head)
    report.problems.push_back({finding::kind::missing, 0});
  else
    add(0, *head);
  for (std::size_t i = 0; i < checkpoint_lines.size(); ++i)
    add(i + 1, parse_checkpoint(checkpoint_lines[i]));

  std::map<std::int64_t, std::string> counted;  // seq -> hash, for the checkpoints
  for (const auto& [source, c] : checkpoints) counted.emplace(c.records, std::string());
  counted[0] = audit_genesis;
  // A page at a time: PostgreSQL hands a statement's whole result over at
  // once, and a trail of years would otherwise sit in memory. The trail only
  // grows, so pages by seq read it as one query would.
  constexpr std::int64_t page_size = 10'000;
  auto stmt = db_.prepare(
      "SELECT seq, time, actor, action, ticket_ref, detail, hash FROM audit "
      "WHERE seq > ? ORDER BY seq LIMIT ?");
  if (!stmt) return stmt.error();
  std::string previous = audit_genesis;
  std::int64_t expected_seq = 1;
  // From the lowest seq there is: a record with a seq below 1 is a bad one,
  // not one to skip.
  std::int64_t after = std::numeric_limits<std::int64_t>::min();
  for (std::int64_t in_page = page_size; in_page == page_size;) {
    stmt->reset();
    stmt->bind(after).bind(page_size);
    for (in_page = 0;; ++in_page) {
      auto row = stmt->step();
      if (!row) return row.error();
      if (!*row) break;
      audit_record r{stmt->integer(0), stmt->integer(1), stmt->text(2), stmt->text(3),
                     stmt->text(4),    stmt->text(5),    stmt->text(6)};
      ++report.records;
      // A gap in seq is a removed record, even if the rest was rehashed.
      if (!report.first_bad_seq &&
          (r.seq != expected_seq || audit_hash(key_, previous, r) != r.hash))
        report.first_bad_seq = r.seq;
      if (auto at = counted.find(r.seq); at != counted.end()) at->second = r.hash;
      previous = r.hash;
      expected_seq = r.seq + 1;
      report.last_seq = after = r.seq;
    }
  }
  for (const auto& [source, c] : checkpoints) {
    if (c.records > report.last_seq)
      report.problems.push_back({finding::kind::truncated, source, c.records, c.time});
    else if (counted[c.records] != c.head)
      report.problems.push_back({finding::kind::diverged, source, c.records, c.time});
    else
      ++report.checkpoints;
  }
  return report;
}

}  // namespace valise::server
