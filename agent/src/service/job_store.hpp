// The agent's own record of each job, one small JSON file per job in
// state_dir/jobs, rewritten atomically at every step: what survives a
// restart (kill -9 included) is exactly where to go on. Thread-safe: the job
// loop, the poller and the control socket share it.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "remote/collector_api.hpp"

namespace valise::agent {

// Local states. The server sees awaiting_approval, collecting, uploading,
// done, failed; `received` and `approved` are the agent's own.
enum class job_state { received, awaiting_approval, approved, collecting, uploading, done, failed };
std::string_view name(job_state s);
std::optional<job_state> parse_job_state(std::string_view s);
bool is_terminal(job_state s);

struct job_record {
  job request;
  job_state state = job_state::received;
  std::string reported;  // the last state the server acknowledged
  std::string error;
  std::string bundle_id;
  std::string received_at;  // RFC 3339
  std::string updated_at;
  bool dropped = false;  // the server closed the request: nothing more to report
};

class job_store {
 public:
  explicit job_store(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // Reads every record; unreadable files are set aside with a warning.
  void load();
  // Adds a job the server sent unless already known; true if new.
  bool add(const job& j);
  std::optional<job_record> get(const std::string& id) const;
  std::vector<job_record> all() const;
  // Saves the record and wakes whoever waits for work.
  void put(job_record r);
  // Forgets terminal records older than `age`.
  void prune(std::chrono::hours age);

  // Waits until put()/add()/wake() or the timeout.
  void wait(std::chrono::milliseconds timeout);
  void wake();

  std::filesystem::path spool_file(const std::string& id, const std::filesystem::path& spool) const;

 private:
  void save_locked(const job_record& r);
  std::filesystem::path dir_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t generation_ = 0;
  std::map<std::string, job_record> jobs_;
};

}  // namespace valise::agent
