// Takes each job from the server's request to a delivered bundle, one step at
// a time, saving the job's state after each step so that a restarted agent
// goes on where it stopped:
//   received -> (refused: failed) -> awaiting_approval -> approved ->
//   collecting -> uploading -> done
// The profile named by the request is looked up in the agent's own config;
// the request can choose nothing else. The bundle goes to the spool encrypted
// (nothing readable touches the disk), its passphrase (if any) to the
// notifier before the spool file is committed, then up with tus, resuming.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "config/agent_config.hpp"
#include "service/job_store.hpp"
#include "valise/common/https_client.hpp"

namespace valise::agent {

class job_runner {
 public:
  job_runner(const agent_config& config, job_store& jobs, common::https_client& http,
             const std::atomic<bool>& stopping);

  // Does every step that can be done now; returns how long until a retry is
  // worth trying (network failures), or nullopt if nothing is pending.
  std::optional<std::chrono::milliseconds> run_pending();

  // A local operator's decision on a job awaiting approval; empty on
  // success, else why not.
  static std::string decide(job_store& jobs, const std::string& id, bool approve,
                            const std::string& reason);

  // Fails jobs whose spool file has waited longer than spool_max_age.
  void expire_spool();

 private:
  enum class outcome { progressed, waiting, retry_later };
  outcome step(job_record& r);
  outcome accept(job_record& r);
  outcome collect_into_spool(job_record& r);
  outcome upload(job_record& r);
  // Tells the server the record's state if it does not know it yet.
  outcome sync_report(job_record& r);
  void fail(job_record& r, const std::string& reason);
  void drop(job_record& r, const std::string& why);
  std::uint64_t spool_usage() const;

  const agent_config& config_;
  job_store& jobs_;
  common::https_client& http_;
  const std::atomic<bool>& stopping_;
  unsigned network_failures_ = 0;
};

}  // namespace valise::agent
