// Partial uploads and the bundles they become.
#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "store/secrets.hpp"
#include "store/sql_store.hpp"

namespace valise::server {
namespace {

constexpr std::string_view upload_columns =
    "SELECT id, ticket_ref, owner_id, source, filename, metadata, length, created_at, expires_at, "
    "state, bundle_id, sha256, request_id FROM uploads ";

constexpr std::string_view bundle_columns =
    "SELECT id, ticket_ref, filename, size, sha256, created_at, source FROM bundles ";

upload_state parse_state(const std::string& s) {
  if (s == "completed") return upload_state::completed;
  if (s == "refused") return upload_state::refused;
  return upload_state::receiving;
}

bundle_info read_bundle(const sql::statement& s) {
  return {s.text(0), s.text(1), s.text(2), s.size(3), s.text(4), s.integer(5), s.text(6)};
}

}  // namespace

result<upload_info> sql_store::find_upload(const std::string& id) {
  auto stmt = db_.prepare(std::string(upload_columns) + "WHERE id = ?");
  if (!stmt) return stmt.error();
  auto row = stmt->bind(id).step();
  if (!row) return row.error();
  if (!*row) return store_errc::not_found;
  const auto& s = *stmt;
  upload_info u;
  u.id = s.text(0);
  u.ticket_ref = s.text(1);
  u.owner_id = s.text(2);
  u.source = s.text(3);
  u.filename = s.text(4);
  u.metadata = s.text(5);
  if (!s.is_null(6)) u.length = s.size(6);
  u.created_at = s.integer(7);
  u.expires_at = s.integer(8);
  u.state = parse_state(s.text(9));
  u.bundle_id = s.text(10);
  u.sha256 = s.text(11);
  u.request_id = s.text(12);
  // The file is the truth about what arrived: appends do not touch the
  // database, so the offset survives a crash exactly as far as the bytes do.
  u.offset = u.state == upload_state::completed   ? u.length.value_or(0)
             : u.state == upload_state::receiving ? blobs_->upload_size(u.id)
                                                  : 0;
  u.updated_at =
      std::max(u.created_at,
               u.state == upload_state::receiving ? blobs_->upload_modified(u.id) : unix_time{0});
  return u;
}

result<upload_info> sql_store::find_receiving(const std::string& id) {
  auto u = find_upload(id);
  if (u && u->state != upload_state::receiving) return store_errc::bad_state;
  return u;
}

result<std::vector<bundle_info>> sql_store::select_bundles(
    std::string_view where, const std::function<void(sql::statement&)>& bind) {
  auto stmt = db_.prepare(std::string(bundle_columns) + std::string(where));
  if (!stmt) return stmt.error();
  bind(*stmt);
  std::vector<bundle_info> out;
  for (;;) {
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return out;
    out.push_back(read_bundle(*stmt));
  }
}

result<bundle_info> sql_store::find_bundle(const std::string& id) {
  auto found = select_bundles("WHERE id = ?", [&](sql::statement& s) { s.bind(id); });
  if (!found) return found.error();
  if (found->empty()) return store_errc::not_found;
  return std::move(found->front());
}

result<std::uint64_t> sql_store::owner_upload_bytes(const std::string& owner_id,
                                                    std::uint64_t deferred_bytes, unix_time now) {
  // Expired uploads no longer count: the purge deletes them within the hour.
  auto stmt = db_.prepare(
      "SELECT COALESCE(SUM(COALESCE(length, ?1)), 0) FROM uploads WHERE owner_id = ?2 "
      "AND (state = 'completed' OR (state = 'receiving' AND expires_at > ?3))");
  if (!stmt) return stmt.error();
  auto row = stmt->bind(deferred_bytes).bind(owner_id).bind(now).step();
  if (!row) return row.error();
  return *row ? stmt->size(0) : 0;
}

result<void> sql_store::check_quota(const actor& by, const upload_info& u,
                                    const upload_quota& quota) {
  const std::uint64_t want = u.length.value_or(quota.deferred_bytes);
  if (quota.owner_max_bytes != 0) {
    auto held = owner_upload_bytes(by.id, quota.deferred_bytes, u.created_at);
    if (!held) return held.error();
    if (want > quota.owner_max_bytes || *held > quota.owner_max_bytes - want)
      return store_errc::quota_exceeded;
  }
  if (quota.min_free_bytes != 0) {
    // A deferred upload is bounded by its cap, not refused for it: it is
    // checked again as its bytes arrive.
    auto free = blobs_->free_bytes();
    if (!free) return free.error();
    const std::uint64_t need = quota.min_free_bytes + u.length.value_or(0);
    if (*free < need) return std::make_error_code(std::errc::no_space_on_device);
  }
  return {};
}

result<void> sql_store::replace_request_uploads(const actor& by, const upload_info& u,
                                                const std::vector<std::string>& leased,
                                                std::vector<std::string>& replaced) {
  auto stmt = db_.prepare(
      "SELECT id FROM uploads WHERE request_id = ? AND state = 'receiving' ORDER BY id");
  if (!stmt) return stmt.error();
  stmt->bind(u.request_id);
  if (auto r = stmt->each([&] { replaced.push_back(stmt->text(0)); }); !r) return r;
  // One the caller did not lease was created since it looked, and its
  // client may be streaming into it: deleting it would lose those bytes.
  for (const auto& id : replaced)
    if (std::find(leased.begin(), leased.end(), id) == leased.end()) return store_errc::busy;
  for (const auto& id : replaced) {
    auto del = db_.prepare("DELETE FROM uploads WHERE id = ?");
    if (!del) return del.error();
    if (auto r = del->bind(id).run(); !r) return r;
    boost::json::object detail{{"upload", id},
                               {"offset", blobs_->upload_size(id)},
                               {"request", u.request_id},
                               {"replaced_by", u.id}};
    if (auto r = append_audit(by.label(), "upload.replaced", u.ticket_ref,
                              boost::json::serialize(detail));
        !r)
      return r;
  }
  return {};
}

result<upload_info> sql_store::create_upload(const actor& by, upload_info u,
                                             const upload_quota& quota) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto t = find_ticket(u.ticket_ref);
  if (!t) return t.error();
  if (t->status == ticket_status::resolved) return store_errc::ticket_resolved;
  if (by.kind == role::agent || !u.request_id.empty())
    if (auto r = check_upload_request(by, u); !r) return r.error();
  u.id = random_id("upl_");
  // One upload per request: a retry takes the place of the unfinished one.
  std::vector<std::string> replaced;
  if (!u.request_id.empty())
    if (auto r = replace_request_uploads(by, u, quota.replaces, replaced); !r) return r.error();
  if (auto r = check_quota(by, u, quota); !r) return r.error();
  const std::uint64_t link_charged =
      by.kind == role::upload_link ? u.length.value_or(quota.deferred_link_charge) : 0;
  if (auto r = charge_link(by, link_charged); !r) return r.error();
  u.state = upload_state::receiving;
  u.offset = 0;
  u.bundle_id.clear();
  u.sha256.clear();
  // A link's upload with a length holds that much of its budget from now;
  // a deferred one holds its bytes as they arrive (reserve_link_bytes).
  auto insert = db_.prepare(
      "INSERT INTO uploads (id, ticket_ref, owner_id, source, filename, metadata, length, "
      "created_at, expires_at, state, request_id, link_charged) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'receiving', NULLIF(?, ''), ?)");
  if (!insert) return insert.error();
  if (auto r = insert->bind(u.id)
                   .bind(u.ticket_ref)
                   .bind(u.owner_id)
                   .bind(u.source)
                   .bind(u.filename)
                   .bind(u.metadata)
                   .bind(u.length)
                   .bind(u.created_at)
                   .bind(u.expires_at)
                   .bind(u.request_id)
                   .bind(link_charged)
                   .run();
      !r)
    return r.error();
  boost::json::object detail{{"upload", u.id}, {"filename", u.filename}};
  if (u.length) detail["length"] = *u.length;
  if (!u.request_id.empty()) detail["request"] = u.request_id;
  if (auto r =
          append_audit(by.label(), "upload.started", u.ticket_ref, boost::json::serialize(detail));
      !r)
    return r.error();
  // The file after the commit: a crash in between leaves a record without
  // its file (open_upload_file creates it), never a file without a record.
  if (auto r = commit(*tx, {.drop_uploads = std::move(replaced), .new_uploads = {u.id}}); !r)
    return r.error();
  return u;
}

result<std::vector<upload_info>> sql_store::receiving_uploads_of_ticket(
    const std::string& ticket_ref, unix_time now) {
  std::lock_guard lock(mutex_);
  auto stmt = db_.prepare(
      "SELECT id FROM uploads WHERE ticket_ref = ? AND state = 'receiving' AND expires_at > ? "
      "ORDER BY created_at, rowid");
  if (!stmt) return stmt.error();
  stmt->bind(ticket_ref).bind(now);
  std::vector<std::string> ids;
  if (auto r = stmt->each([&] { ids.push_back(stmt->text(0)); }); !r) return r.error();
  std::vector<upload_info> out;
  for (const auto& id : ids) {
    auto u = find_upload(id);
    if (!u) return u.error();
    out.push_back(std::move(*u));
  }
  return out;
}

result<std::vector<std::string>> sql_store::receiving_uploads(const std::string& request_id) {
  std::lock_guard lock(mutex_);
  auto stmt = db_.prepare("SELECT id FROM uploads WHERE request_id = ? AND state = 'receiving'");
  if (!stmt) return stmt.error();
  stmt->bind(request_id);
  std::vector<std::string> ids;
  if (auto r = stmt->each([&] { ids.push_back(stmt->text(0)); }); !r) return r.error();
  return ids;
}

result<upload_info> sql_store::get_upload(const std::string& id) {
  std::lock_guard lock(mutex_);
  return find_upload(id);
}

result<upload_file> sql_store::open_upload_file(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto u = find_receiving(id);
  if (!u) return u.error();
  auto file = blobs_->open_upload(id);
  // The server stopped between the record and the file: start the file now.
  if (!file && file.error() == std::errc::no_such_file_or_directory) {
    if (auto r = blobs_->create_upload(id); !r) return r.error();
    file = blobs_->open_upload(id);
  }
  return file;
}

result<upload_file> sql_store::open_upload_scratch(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto u = find_receiving(id);
  if (!u) return u.error();
  return blobs_->create_scratch(id);
}

result<void> sql_store::set_upload_length(const actor& /*by*/, const std::string& id,
                                          std::uint64_t length) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto u = find_receiving(id);
  if (!u) return u.error();
  if (u->length) return store_errc::bad_state;
  // A link's upload now holds exactly its length: what it held for the
  // bytes received so far, plus the rest (whoever sets it).
  auto held = reserve_link_bytes_locked(id, length);
  if (!held) return held.error();
  if (*held != length) return store_errc::budget_exceeded;
  auto update = db_.prepare("UPDATE uploads SET length = ? WHERE id = ?");
  if (!update) return update.error();
  if (auto r = update->bind(length).bind(id).run(); !r) return r;
  return tx->commit();
}

result<std::uint64_t> sql_store::reserve_link_bytes(const std::string& upload_id,
                                                    std::uint64_t want) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto held = reserve_link_bytes_locked(upload_id, want);
  if (!held) return held.error();
  if (auto r = tx->commit(); !r) return r.error();
  return held;
}

result<bundle_info> sql_store::complete_upload(const actor& by, const std::string& id,
                                               const std::string& sha256) {
  // The fsync first, outside the store's mutex and before BEGIN: on a shared
  // file system it may take long, and inside the transaction it would hold
  // the cluster's one writer lock (docs/cluster.md) all that time.
  // Its failure is reported after the record's, as before.
  auto size = blobs_->sync_upload(id);
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto u = find_receiving(id);
  if (!u) return u.error();
  if (!size) return size.error();
  // The bytes made durable are the bytes recorded: nothing was appended since.
  if (!u->length || *size != *u->length || blobs_->upload_size(id) != *size)
    return store_errc::bad_state;
  bundle_info b{random_id("bdl_"), u->ticket_ref, u->filename, *size, sha256, now_utc(), u->source};
  auto insert = db_.prepare(
      "INSERT INTO bundles (id, ticket_ref, upload_id, filename, size, sha256, created_at, source) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert) return insert.error();
  if (auto r = insert->bind(b.id)
                   .bind(b.ticket_ref)
                   .bind(id)
                   .bind(b.filename)
                   .bind(b.size)
                   .bind(b.sha256)
                   .bind(b.created_at)
                   .bind(b.source)
                   .run();
      !r)
    return r.error();
  auto update =
      db_.prepare("UPDATE uploads SET state = 'completed', bundle_id = ?, sha256 = ? WHERE id = ?");
  if (!update) return update.error();
  if (auto r = update->bind(b.id).bind(sha256).bind(id).run(); !r) return r.error();
  boost::json::object detail{
      {"upload", id}, {"bundle", b.id}, {"size", b.size}, {"sha256", sha256}};
  if (!u->request_id.empty()) {
    // The request's bundle is the first upload for it to complete.
    auto link = db_.prepare(
        "UPDATE requests SET bundle_id = ?, updated_at = ? WHERE id = ? AND bundle_id IS NULL");
    if (!link) return link.error();
    if (auto r = link->bind(b.id).bind(b.created_at).bind(u->request_id).run(); !r)
      return r.error();
    detail["request"] = u->request_id;
  }
  if (auto r = append_audit(by.label(), "upload.completed", b.ticket_ref,
                            boost::json::serialize(detail));
      !r)
    return r.error();
  boost::json::object event{{"bundle", b.id},         {"filename", b.filename},
                            {"size", b.size},         {"sha256", b.sha256},
                            {"uploader", by.label()}, {"created_at", b.created_at}};
  if (!u->request_id.empty()) event["request"] = u->request_id;
  if (auto r = enqueue_event(b.ticket_ref, "bundle.arrived", std::move(event)); !r)
    return r.error();
  // Recorded first: if the move does not happen now, start-up does it.
  if (auto r = commit(*tx, {.promotions = {{id, b.id}}}); !r) return r.error();
  return b;
}

result<void> sql_store::end_upload(const actor& by, const std::string& id,
                                   std::string_view change_sql, const std::string& action,
                                   const std::string& reason) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto u = find_receiving(id);
  if (!u) return u.error();
  auto change = db_.prepare(change_sql);
  if (!change) return change.error();
  if (auto r = change->bind(id).run(); !r) return r;
  boost::json::object detail{{"upload", id}, {"filename", u->filename}, {"offset", u->offset}};
  if (!reason.empty()) detail["reason"] = reason;
  if (auto r = append_audit(by.label(), action, u->ticket_ref, boost::json::serialize(detail)); !r)
    return r;
  return commit(*tx, {.drop_uploads = {id}});
}

result<void> sql_store::refuse_upload(const actor& by, const std::string& id,
                                      const std::string& reason) {
  // The record stays (HEAD answers 410, not 404) until the upload expires.
  return end_upload(by, id, "UPDATE uploads SET state = 'refused' WHERE id = ?", "upload.refused",
                    reason);
}

result<void> sql_store::terminate_upload(const actor& by, const std::string& id) {
  return end_upload(by, id, "DELETE FROM uploads WHERE id = ?", "upload.terminated", {});
}

result<std::vector<bundle_info>> sql_store::list_bundles(const std::string& ticket_ref) {
  std::lock_guard lock(mutex_);
  return select_bundles("WHERE ticket_ref = ? ORDER BY created_at, rowid",
                        [&](sql::statement& s) { s.bind(ticket_ref); });
}

result<bundle_info> sql_store::get_bundle(const std::string& id) {
  std::lock_guard lock(mutex_);
  return find_bundle(id);
}

result<bundle_file> sql_store::open_bundle(const actor& by, const std::string& id) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto b = find_bundle(id);
  if (!b) return b.error();
  auto file = blobs_->open_bundle(id);
  if (!file) {
    if (file.error() == std::errc::no_such_file_or_directory) return store_errc::corrupt;
    return file.error();
  }
  if (file->size() != b->size) return store_errc::corrupt;
  boost::json::object detail{{"bundle", id}, {"size", b->size}};
  if (auto r = append_audit(by.label(), "bundle.downloaded", b->ticket_ref,
                            boost::json::serialize(detail));
      !r)
    return r.error();
  if (auto r = tx->commit(); !r) return r.error();
  return file;
}

result<purged_bundle> sql_store::delete_bundle(const actor& by, const std::string& id) {
  std::lock_guard lock(mutex_);
  auto tx = sql::transaction::begin(db_);
  if (!tx) return tx.error();
  auto b = find_bundle(id);
  if (!b) return b.error();
  auto report =
      destroy({{b->ticket_ref, {b->id, b->size, b->sha256}}}, {}, "bundle.deleted", by.label());
  if (!report) return report.error();
  if (auto r = commit(*tx, blob_changes::dropping(*report)); !r) return r.error();
  return report->bundles.front();
}

}  // namespace valise::server
