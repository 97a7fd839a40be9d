// The collector server's agent API (docs/api.md, "Agents"), as typed calls
// over one https_client: enrollment with a one-time token, then mutual TLS
// for heartbeats, certificate renewal, the job long-poll and status reports.
// Unexpected statuses are make_status_error(status); the server's own error
// sentence, or what the connection met (proxy, TLS), is kept in last_error()
// for the log.
#pragma once

#include <boost/json/fwd.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "valise/common/https_client.hpp"

namespace valise::agent {

// What this host tells the server about itself.
struct host_report {
  std::string hostname, os, kernel, version;
  std::vector<std::string> profiles;  // those remote requests may use
  // The largest bundle this agent can upload (its spool_max_bytes): the
  // server refuses an upload over it.
  std::uint64_t max_upload_bytes = 0;
};
host_report describe_host(std::vector<std::string> remote_profiles, std::uint64_t max_upload_bytes);

struct enrollment {
  std::string agent_id;
  std::string certificate;  // PEM
  std::string ca;           // PEM
};

// A diagnostics request as the server sends it: a profile name and a window,
// never a command or a path.
struct job {
  std::string id, ticket, profile;
  std::optional<std::string> since, until;  // RFC 3339
  std::vector<std::string> recipients;      // a choice among the pinned keys
};

struct status_report {
  std::string state;  // collecting, awaiting_approval, uploading, done, failed
  std::string error;
  std::string bundle_id;
};

class collector_api {
 public:
  explicit collector_api(common::https_client& http) : http_(http) {}

  // GET /api/v1/ca (the client may be unverified: the caller checks the pin).
  result<std::string> fetch_ca();
  // POST /api/v1/enroll with the token as bearer.
  result<enrollment> enroll(const std::string& token, const std::string& csr,
                            const host_report& host);
  result<void> heartbeat(const host_report& host);
  // POST /api/v1/agent/certificate: the new certificate (PEM).
  result<std::string> renew(const std::string& csr);
  // GET /api/v1/agent/jobs?wait=S: queued jobs, or none after S seconds.
  result<std::vector<job>> poll_jobs(std::chrono::seconds wait);
  // POST /api/v1/agent/requests/{id}/status. HTTP 409 means the request is
  // over on the server (ticket resolved, cancelled): the caller drops it.
  result<void> report(const std::string& job_id, const status_report& status);

  const std::string& last_error() const { return last_error_; }
  // The Retry-After of the last answer (a 503 or 429: when to come back).
  std::optional<std::chrono::seconds> retry_after() const { return retry_after_; }

 private:
  result<boost::json::value> call(const common::http_request& request, unsigned expected);
  common::https_client& http_;
  std::string last_error_;
  std::optional<std::chrono::seconds> retry_after_;
};

}  // namespace valise::agent
