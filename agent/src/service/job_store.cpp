#include "service/job_store.hpp"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "enroll/credentials.hpp"
#include "valise/common/file_io.hpp"
#include "valise/common/manifest.hpp"

namespace valise::agent {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr std::string_view state_names[] = {
    "received", "awaiting_approval", "approved", "collecting", "uploading", "done", "failed"};

std::string text(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

json::value optional_text(const std::optional<std::string>& s) {
  return s ? json::value(*s) : json::value(nullptr);
}

std::optional<std::string> optional_from(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (v && v->is_string()) return std::string(v->get_string());
  return std::nullopt;
}

std::string to_json(const job_record& r) {
  json::array recipients;
  for (const auto& k : r.request.recipients) recipients.emplace_back(k);
  return json::serialize(json::object{{"id", r.request.id},
                                      {"ticket", r.request.ticket},
                                      {"profile", r.request.profile},
                                      {"since", optional_text(r.request.since)},
                                      {"until", optional_text(r.request.until)},
                                      {"recipients", std::move(recipients)},
                                      {"state", name(r.state)},
                                      {"reported", r.reported},
                                      {"error", r.error},
                                      {"bundle_id", r.bundle_id},
                                      {"received_at", r.received_at},
                                      {"updated_at", r.updated_at},
                                      {"dropped", r.dropped}}) +
         "\n";
}

std::optional<job_record> from_json(std::string_view data) {
  boost::system::error_code ec;
  auto v = json::parse(data, ec);
  const auto* o = ec ? nullptr : v.if_object();
  if (!o) return std::nullopt;
  job_record r;
  r.request = {text(*o, "id"),
               text(*o, "ticket"),
               text(*o, "profile"),
               optional_from(*o, "since"),
               optional_from(*o, "until"),
               {}};
  if (const auto* k = o->if_contains("recipients"); k && k->is_array())
    for (const auto& key : k->get_array())
      if (key.is_string()) r.request.recipients.emplace_back(key.get_string());
  auto state = parse_job_state(text(*o, "state"));
  if (!state || r.request.id.empty()) return std::nullopt;
  r.state = *state;
  r.reported = text(*o, "reported");
  r.error = text(*o, "error");
  r.bundle_id = text(*o, "bundle_id");
  r.received_at = text(*o, "received_at");
  r.updated_at = text(*o, "updated_at");
  if (const auto* d = o->if_contains("dropped"); d && d->is_bool()) r.dropped = d->get_bool();
  return r;
}

}  // namespace

std::string_view name(job_state s) {
  return state_names[static_cast<int>(s)];
}

std::optional<job_state> parse_job_state(std::string_view s) {
  for (int i = 0; i < 7; ++i)
    if (state_names[i] == s) return static_cast<job_state>(i);
  return std::nullopt;
}

bool is_terminal(job_state s) {
  return s == job_state::done || s == job_state::failed;
}

void job_store::load() {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  std::lock_guard lock(mutex_);
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".json") continue;
    auto data = common::read_small_file(it->path(), 1 << 20);
    auto record = data ? from_json(*data) : std::nullopt;
    if (!record) {
      spdlog::warn("{}: not a job record, set aside as .bad", it->path().string());
      std::error_code e;
      fs::rename(it->path(), fs::path(it->path()).replace_extension(".bad"), e);
      continue;
    }
    jobs_[record->request.id] = std::move(*record);
  }
}

bool job_store::add(const job& j) {
  std::lock_guard lock(mutex_);
  if (jobs_.contains(j.id)) return false;
  job_record r{.request = j, .received_at = common::now_rfc3339()};
  r.updated_at = r.received_at;
  save_locked(r);
  jobs_[j.id] = std::move(r);
  ++generation_;
  changed_.notify_all();
  return true;
}

std::optional<job_record> job_store::get(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second;
}

std::vector<job_record> job_store::all() const {
  std::lock_guard lock(mutex_);
  std::vector<job_record> out;
  for (const auto& [id, r] : jobs_) out.push_back(r);
  return out;
}

void job_store::put(job_record r) {
  std::lock_guard lock(mutex_);
  r.updated_at = common::now_rfc3339();
  save_locked(r);
  jobs_[r.request.id] = std::move(r);
  ++generation_;
  changed_.notify_all();
}

void job_store::save_locked(const job_record& r) {
  if (auto w = write_private_file(dir_ / (r.request.id + ".json"), to_json(r)); !w)
    spdlog::error("job {}: cannot save its state in {}: {}", r.request.id, dir_.string(),
                  w.error().message());
}

void job_store::prune(std::chrono::hours age) {
  std::lock_guard lock(mutex_);
  const auto cutoff = fs::file_time_type::clock::now() - age;
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    std::error_code ec;
    const auto file = dir_ / (it->first + ".json");
    const auto written = fs::last_write_time(file, ec);
    if (is_terminal(it->second.state) && !ec && written < cutoff) {
      fs::remove(file, ec);
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
}

void job_store::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  const auto seen = generation_;
  changed_.wait_for(lock, timeout, [&] { return generation_ != seen; });
}

void job_store::wake() {
  std::lock_guard lock(mutex_);
  ++generation_;
  changed_.notify_all();
}

fs::path job_store::spool_file(const std::string& id, const fs::path& spool) const {
  return spool / (id + ".age");
}

}  // namespace valise::agent
