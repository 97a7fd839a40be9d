#include "service/job_runner.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <random>

#include "delivery/passphrase_delivery.hpp"
#include "service/bundle_maker.hpp"
#include "service/job_report.hpp"
#include "valise/common/file_io.hpp"
#include "valise/common/tus_client.hpp"

namespace valise::agent {
namespace {

namespace fs = std::filesystem;

// The spool's byte budget and the stop request, enforced while the bundle is
// written: a full spool fails the job cleanly, a stop abandons it (the job
// stays `collecting` and starts again after the restart).
class spool_sink final : public crypto::byte_sink {
 public:
  spool_sink(crypto::byte_sink& inner, std::uint64_t budget, const std::atomic<bool>& stopping)
      : inner_(inner), budget_(budget), stopping_(stopping) {}
  result<void> write(crypto::bytes data) override {
    if (stopping_) return std::make_error_code(std::errc::operation_canceled);
    written_ += data.size();
    if (written_ > budget_) {
      over_budget_ = true;
      return std::make_error_code(std::errc::no_space_on_device);
    }
    return inner_.write(data);
  }
  bool over_budget() const { return over_budget_; }

 private:
  crypto::byte_sink& inner_;
  std::uint64_t budget_;
  const std::atomic<bool>& stopping_;
  std::uint64_t written_ = 0;
  bool over_budget_ = false;
};

std::string status_name(job_state s) {
  // The server's vocabulary: `approved` is still waiting to collect.
  if (s == job_state::approved) return "awaiting_approval";
  return std::string(name(s));
}

bool is_status(std::error_code ec, unsigned status) {
  return ec == common::make_status_error(status);
}

std::string bundle_file_name(const job_record& r) {
  return fmt::format("{}-{}-{}.age", r.request.ticket.empty() ? "bundle" : r.request.ticket,
                     common::local_host_name(), r.request.profile);
}

}  // namespace

job_runner::job_runner(const agent_config& config, job_store& jobs, common::https_client& http,
                       const std::atomic<bool>& stopping)
    : config_(config), jobs_(jobs), http_(http), stopping_(stopping) {}

std::optional<std::chrono::milliseconds> job_runner::run_pending() {
  bool retry = false;
  for (auto& r : jobs_.all()) {
    if (stopping_) return std::nullopt;
    for (;;) {
      const auto o = step(r);
      if (o == outcome::retry_later) retry = true;
      if (o != outcome::progressed || stopping_) break;
    }
  }
  if (!retry) {
    network_failures_ = 0;
    return std::nullopt;
  }
  ++network_failures_;
  static thread_local std::mt19937 random{std::random_device{}()};
  return common::tus::backoff_delay(network_failures_, std::chrono::seconds(1), config_.backoff_max,
                                    std::uniform_real_distribution<>(0, 1)(random));
}

job_runner::outcome job_runner::step(job_record& r) {
  if (r.dropped) return outcome::waiting;
  if (auto o = sync_report(r); o != outcome::progressed) return o;
  switch (r.state) {
    case job_state::received:
      return accept(r);
    case job_state::awaiting_approval:
    case job_state::done:
    case job_state::failed:
      return outcome::waiting;
    case job_state::approved:
      r.state = job_state::collecting;
      jobs_.put(r);
      return outcome::progressed;
    case job_state::collecting:
      return collect_into_spool(r);
    case job_state::uploading:
      return upload(r);
  }
  return outcome::waiting;
}

job_runner::outcome job_runner::sync_report(job_record& r) {
  if (r.state == job_state::received) return outcome::progressed;
  const std::string state = status_name(r.state);
  if (r.reported == state) return outcome::progressed;
  collector_api api(http_);
  auto sent =
      api.report(r.request.id, {.state = state, .error = r.error, .bundle_id = r.bundle_id});
  if (sent) {
    r.reported = state;
    jobs_.put(r);
    return outcome::progressed;
  }
  // A refused report stays refused: retried, it held the job (and the
  // server's request) in its state forever.
  if (report_refused_for_good(sent.error())) {
    drop(r, fmt::format("the server refused the `{}` report: {}", state,
                        api.last_error().empty() ? sent.error().message() : api.last_error()));
    return outcome::waiting;
  }
  spdlog::warn("job {}: cannot report `{}` to the server yet: {}{}", r.request.id, state,
               sent.error().message(),
               api.last_error().empty() ? "" : " (" + api.last_error() + ")");
  return outcome::retry_later;
}

job_runner::outcome job_runner::accept(job_record& r) {
  const auto found = config_.profiles.find(r.request.profile);
  if (found == config_.profiles.end()) {
    fail(r, fmt::format("unknown profile \"{}\": this agent's config does not define it",
                        r.request.profile));
    return outcome::progressed;
  }
  const profile& p = found->second;
  if (!p.remote) {
    fail(r, fmt::format("profile \"{}\" is not allowed for remote requests on this agent "
                        "(remote = false in its config)",
                        p.name));
    return outcome::progressed;
  }
  for (const auto* when : {&r.request.since, &r.request.until})
    if (*when && !parse_rfc3339(**when)) {
      fail(r, fmt::format("invalid time window bound \"{}\"", **when));
      return outcome::progressed;
    }
  if (auto keys = choose_keys(config_.delivery, r.request.recipients); !keys) {
    fail(r, keys.error());
    return outcome::progressed;
  } else if (keys->passphrase && !can_deliver_passphrase(config_.delivery)) {
    fail(r,
         "no way to deliver the bundle's passphrase: the agent's [delivery] sets neither "
         "recipients, nor a notifier, nor local_passphrase_file");
    return outcome::progressed;
  }
  if (p.approval == approval_mode::operator_approval) {
    spdlog::info(
        "job {}: ticket {} asks for profile {}: waiting for a local operator "
        "(`valise-agent approve {}` or `deny`)",
        r.request.id, r.request.ticket, p.name, r.request.id);
    r.state = job_state::awaiting_approval;
  } else {
    r.state = job_state::collecting;
  }
  jobs_.put(r);
  return outcome::progressed;
}

std::uint64_t job_runner::spool_usage() const {
  std::uint64_t used = 0;
  std::error_code ec;
  for (fs::directory_iterator it(config_.spool(), ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code e;
    if (it->is_regular_file(e)) used += it->file_size(e);
  }
  return used;
}

job_runner::outcome job_runner::collect_into_spool(job_record& r) {
  const profile& p = config_.profiles.at(r.request.profile);
  std::error_code ec;
  fs::create_directories(config_.spool(), ec);
  fs::permissions(config_.spool(), fs::perms::owner_all, ec);
  const auto used = spool_usage();
  if (used >= config_.spool_max_bytes) {
    fail(r, fmt::format("the spool is full ({} of {} bytes hold bundles not delivered yet)", used,
                        config_.spool_max_bytes));
    return outcome::progressed;
  }
  auto keys = choose_keys(config_.delivery, r.request.recipients);
  if (!keys) {
    fail(r, keys.error());
    return outcome::progressed;
  }
  const auto path = jobs_.spool_file(r.request.id, config_.spool());
  auto file = common::atomic_file::create(path, {.overwrite = true, .durable = true});
  if (!file) {
    fail(r, fmt::format("cannot create {}: {}", path.string(), file.error().message()));
    return outcome::progressed;
  }
  spdlog::info("job {}: collecting profile {} for ticket {}", r.request.id, p.name,
               r.request.ticket);
  spool_sink sink(*file, config_.spool_max_bytes - used, stopping_);
  bundle_request request{.source = p, .ticket = r.request.ticket, .scratch_dir = config_.spool()};
  if (r.request.since) request.since = parse_rfc3339(*r.request.since);
  if (r.request.until) request.until = parse_rfc3339(*r.request.until);
  auto manifest = make_bundle(request, *keys, sink);
  if (!manifest) {
    if (stopping_) return outcome::waiting;  // abandoned: collected again after the restart
    fail(r, sink.over_budget()
                ? fmt::format("the bundle would overflow the spool limit ({} bytes)",
                              config_.spool_max_bytes)
                : fmt::format("writing the bundle failed: {}", manifest.error().message()));
    return outcome::progressed;
  }
  r.bundle_id.clear();
  if (keys->passphrase) {
    // Before the spool file exists: a passphrase that never reached anyone
    // would leave a bundle nobody can open.
    const auto problem = deliver_passphrase(
        config_.delivery, config_.state_dir, *keys->passphrase,
        {r.request.ticket, r.request.id, manifest->bundle_id, common::local_host_name(), p.name});
    if (!problem.empty()) {
      fail(r, problem);
      return outcome::progressed;
    }
  }
  if (auto c = file->commit(); !c) {
    fail(r, fmt::format("cannot write {}: {}", path.string(), c.error().message()));
    return outcome::progressed;
  }
  std::uint64_t errors = 0;
  for (const auto& item : manifest->items) errors += item.error.empty() ? 0 : 1;
  spdlog::info("job {}: bundle {} spooled ({} items, {} with errors, {} redactions)", r.request.id,
               manifest->bundle_id, manifest->items.size(), errors, manifest->redactions);
  r.state = job_state::uploading;
  jobs_.put(r);
  return outcome::progressed;
}

job_runner::outcome job_runner::upload(job_record& r) {
  const auto path = jobs_.spool_file(r.request.id, config_.spool());
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    fail(r, "the spooled bundle has disappeared from " + config_.spool().string());
    return outcome::progressed;
  }
  common::tus_client client(http_, config_.server + "/api/v1/uploads");
  common::resume_store resume(config_.state_dir / "uploads");
  common::file_upload_options options{
      .metadata = {{"filename", bundle_file_name(r)}, {"request", r.request.id}},
      .resume = &resume,
      .backoff_cap = config_.backoff_max,
      .on_retry = [&](std::error_code e, unsigned attempt, std::chrono::milliseconds wait) {
        spdlog::warn("job {}: upload interrupted ({}), retry {} in {} ms", r.request.id,
                     e.message(), attempt, wait.count());
      }};
  auto sent = common::upload_file(client, path, options);
  if (!sent) {
    const auto e = sent.error();
    // The server already has this request's bundle (our state was lost
    // after the upload completed): it says which.
    if (is_status(e, 409) && client.last_error_response()) {
      boost::system::error_code pe;
      auto body = boost::json::parse(client.last_error_response()->body, pe);
      const auto* o = pe ? nullptr : body.if_object();
      const auto* id = o ? o->if_contains("bundle_id") : nullptr;
      if (id && id->is_string()) {
        r.bundle_id = std::string(id->get_string());
        fs::remove(path, ec);
        r.state = job_state::done;
        jobs_.put(r);
        return outcome::progressed;
      }
    }
    if (common::tus::is_transient(e) || e.category() == common::http_category()) {
      spdlog::warn("job {}: upload paused: {}", r.request.id, e.message());
      return outcome::retry_later;
    }
    if (is_status(e, 409) || is_status(e, 403) || is_status(e, 404) || is_status(e, 410)) {
      std::string why = e.message();
      if (auto& body = client.last_error_response(); body && !body->body.empty())
        why += ": " + body->body.substr(0, 200);
      drop(r, "the server refused the upload (" + why + ")");
      return outcome::waiting;
    }
    fail(r, fmt::format("upload failed: {}", e.message()));
    return outcome::progressed;
  }
  spdlog::info("job {}: delivered as bundle {} ({} bytes, sha256 {}{})", r.request.id,
               sent->bundle_id, sent->size, sent->sha256,
               sent->resumed_from ? fmt::format(", resumed at {}", sent->resumed_from) : "");
  // The server's SHA-256 matched the file's: the spool copy may go.
  fs::remove(path, ec);
  r.bundle_id = sent->bundle_id;
  r.state = job_state::done;
  jobs_.put(r);
  return outcome::progressed;
}

void job_runner::fail(job_record& r, const std::string& reason) {
  spdlog::error("job {}: failed: {}", r.request.id, reason);
  std::error_code ec;
  fs::remove(jobs_.spool_file(r.request.id, config_.spool()), ec);
  r.error = report_error(reason);
  r.state = job_state::failed;
  jobs_.put(r);
}

void job_runner::drop(job_record& r, const std::string& why) {
  spdlog::warn("job {}: dropped: {}", r.request.id, why);
  std::error_code ec;
  fs::remove(jobs_.spool_file(r.request.id, config_.spool()), ec);
  if (!is_terminal(r.state)) {
    r.state = job_state::failed;
    r.error = report_error(why);
  }
  r.dropped = true;
  jobs_.put(r);
}

void job_runner::expire_spool() {
  const auto now = fs::file_time_type::clock::now();
  for (auto& r : jobs_.all()) {
    if (r.state != job_state::uploading) continue;
    std::error_code ec;
    const auto written = fs::last_write_time(jobs_.spool_file(r.request.id, config_.spool()), ec);
    if (!ec && now - written > config_.spool_max_age)
      fail(r, fmt::format("undeliverable for more than {} h: the spooled bundle expired",
                          config_.spool_max_age.count() / 3600));
  }
}

std::string job_runner::decide(job_store& jobs, const std::string& id, bool approve,
                               const std::string& reason) {
  auto r = jobs.get(id);
  if (!r) return "no job " + id + " on this agent (see `valise-agent jobs`)";
  if (r->state != job_state::awaiting_approval)
    return fmt::format("job {} is {}, not awaiting approval", id, name(r->state));
  if (approve) {
    spdlog::info("job {}: approved by the local operator", id);
    r->state = job_state::approved;
  } else {
    spdlog::info("job {}: denied by the local operator", id);
    r->state = job_state::failed;
    r->error = report_error(reason.empty() ? "denied by the site's operator"
                                           : "denied by the site's operator: " + reason);
  }
  jobs.put(*r);
  return {};
}

}  // namespace valise::agent
