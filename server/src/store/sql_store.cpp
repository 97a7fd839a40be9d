#include "store/sql_store.hpp"

#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <ctime>
#include <limits>
#include <map>

#include "clock/clock.hpp"

namespace valise::server {

unix_time now_utc() {
  return clock::now();
}

std::string to_json_text(const std::vector<std::string>& names) {
  boost::json::array out;
  for (const auto& n : names) out.emplace_back(n);
  return boost::json::serialize(out);
}

std::vector<std::string> names_from_json(const std::string& text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  if (ec || !value.is_array()) return out;
  for (const auto& v : value.as_array())
    if (v.is_string()) out.emplace_back(v.as_string());
  return out;
}

sql_store::sql_store(sql::connection db, std::unique_ptr<blob_store> blobs, int lock_fd,
                     std::filesystem::path data_dir, audit_key key)
    : db_(std::move(db)),
      blobs_(std::move(blobs)),
      lock_fd_(lock_fd),
      data_dir_(std::move(data_dir)),
      key_(std::move(key)) {}

sql_store::~sql_store() {
  // A tool (`token create`) leaves audit.head covering what it wrote.
  if (appended_) {
    std::lock_guard lock(mutex_);
    (void)write_checkpoint();
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

result<void> sql_store::reconcile(std::chrono::seconds min_age) {
  // The node serves meanwhile (the leader reconciles at each election) and
  // the walk, stats and unlinks of a shared file system may take long: only
  // the queries and each move hold the store's lock. What makes that safe:
  // - files first, records second: a file is only ever created after its
  //   record commits, so a file listed here has its record (if any) visible
  //   to the queries below, and one that no record names is an orphan;
  // - only listed names are touched, so a file created after the listing (an
  //   upload made meanwhile) is never removed; ids are never reused, so an
  //   orphan's name cannot gain a record later;
  // - several nodes: another one may be between an upload's commit and its
  //   file's move (or a purge's commit and its unlink). Partial files it may
  //   be working on are left alone until they are older than min_age, stat'ed
  //   after the queries, so the writes before a completion's commit count
  //   (file times are the file system's, so the real clock). min_age 0 is
  //   start-up with SQLite, before the process serves.
  // A bundle file without a record can only be one whose deletion is
  // finishing, since a bundle's file is made after its record commits.
  auto upload_files = blobs_->list_uploads();
  auto bundle_files = blobs_->list_bundles();
  std::set<std::string> receiving;
  std::vector<std::pair<std::string, std::string>> bundles;  // id, upload id
  {
    std::lock_guard lock(mutex_);
    auto stmt = db_.prepare("SELECT id FROM uploads WHERE state = 'receiving'");
    if (!stmt) return stmt.error();
    if (auto r = stmt->each([&] { receiving.insert(stmt->text(0)); }); !r) return r;
    auto listed = db_.prepare("SELECT id, upload_id FROM bundles");
    if (!listed) return listed.error();
    if (auto r = listed->each([&] { bundles.emplace_back(listed->text(0), listed->text(1)); }); !r)
      return r;
  }
  const auto settled = [&](const std::string& upload_id) {
    return min_age.count() == 0 ||
           blobs_->upload_modified(upload_id) <= std::time(nullptr) - min_age.count();
  };
  std::set<std::string> recorded_bundles;
  for (const auto& [id, upload_id] : bundles) {
    recorded_bundles.insert(id);
    // Recorded as complete, stopped before its file moved: finish the move.
    if (bundle_files.contains(id) || !upload_files.contains(upload_id) || !settled(upload_id))
      continue;
    // Under the lock, with the record looked up again: this node's purge of
    // the bundle (its deletion and unlinks, under the lock) is not undone
    // by a move after it.
    std::lock_guard lock(mutex_);
    auto still = db_.prepare("SELECT COUNT(*) FROM bundles WHERE id = ?");
    if (!still) return still.error();
    auto row = still->bind(id).step();
    if (!row) return row.error();
    if (still->size(0) == 0) continue;  // purged meanwhile: its file goes below
    // ENOENT: the node completing it moved it meanwhile.
    if (auto r = blobs_->promote(upload_id, id);
        !r && r.error() != std::errc::no_such_file_or_directory)
      return r;
    upload_files.erase(upload_id);
    bundle_files.insert(id);
  }
  for (const auto& name : upload_files)
    if (!receiving.contains(name) && settled(name)) blobs_->remove_upload(name);
  for (const auto& name : bundle_files)
    if (!recorded_bundles.contains(name)) blobs_->remove_bundle(name);
  blobs_->sync();
  return {};
}

result<store::totals> sql_store::count() {
  std::lock_guard lock(mutex_);
  auto stmt = db_.prepare("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM bundles");
  if (!stmt) return stmt.error();
  auto row = stmt->step();
  if (!row) return row.error();
  return totals{stmt->size(0), stmt->size(1)};
}

result<purge_report> sql_store::destroy(const std::vector<doomed_bundle>& bundles,
                                        const std::vector<doomed_upload>& uploads,
                                        const std::string& action, const std::string& actor_label,
                                        const std::string& always_ticket) {
  namespace json = boost::json;
  purge_report report;
  std::map<std::string, json::object> per_ticket;
  auto detail_of = [&](const std::string& ref) -> json::object& {
    auto& d = per_ticket[ref];
    if (d.empty()) d = json::object{{"bundles", json::array()}, {"uploads", json::array()}};
    return d;
  };
  if (!always_ticket.empty()) detail_of(always_ticket);
  for (const auto& d : bundles) {
    auto del = db_.prepare("DELETE FROM bundles WHERE id = ?");
    if (!del) return del.error();
    if (auto r = del->bind(d.bundle.id).run(); !r) return r.error();
    // The upload it came from has nothing left to answer for.
    auto del_upload = db_.prepare("DELETE FROM uploads WHERE bundle_id = ?");
    if (!del_upload) return del_upload.error();
    if (auto r = del_upload->bind(d.bundle.id).run(); !r) return r.error();
    detail_of(d.ticket_ref)["bundles"].as_array().push_back(
        json::object{{"id", d.bundle.id}, {"size", d.bundle.size}, {"sha256", d.bundle.sha256}});
    report.bundles.push_back(d.bundle);
  }
  for (const auto& d : uploads) {
    auto del = db_.prepare("DELETE FROM uploads WHERE id = ?");
    if (!del) return del.error();
    if (auto r = del->bind(d.upload.id).run(); !r) return r.error();
    detail_of(d.ticket_ref)["uploads"].as_array().push_back(
        json::object{{"id", d.upload.id}, {"offset", d.upload.offset}});
    report.uploads.push_back(d.upload);
  }
  const unix_time now = now_utc();
  for (auto& [ref, detail] : per_ticket) {
    if (auto r = append_audit(actor_label, action, ref, json::serialize(detail)); !r)
      return r.error();
    // The receipt goes out too: what was destroyed, why and when.
    auto receipt = detail;
    receipt["cause"] = action;
    receipt["purged_at"] = now;
    if (auto r = enqueue_event(ref, "bundles.purged", std::move(receipt)); !r) return r.error();
  }
  return report;
}

result<void> sql_store::commit(sql::transaction& tx, const blob_changes& changes) {
  if (auto r = tx.commit(); !r) return r;
  return apply(*blobs_, changes);
}

}  // namespace valise::server
