// Enrolled agents (their certificates and facts) and the diagnostics
// requests technicians send them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "valise/crypto/result.hpp"
#include "valise/server/store/types.hpp"

namespace valise::server {

// What an agent says about its host (enrollment, heartbeats).
struct agent_facts {
  std::string hostname;
  std::string os;
  std::string kernel;
  std::string version;
  std::vector<std::string> profiles;  // the profiles remote requests may use
  // The largest upload the agent can make (its spool_max_bytes); agents
  // before this field declare nothing and get the server's default.
  std::optional<std::uint64_t> max_upload_bytes;
};

struct agent_info {
  std::string id;  // "agt_…", the CN of its certificate
  agent_facts facts;
  std::string cert_sha256;  // hex SHA-256 of the current certificate (DER)
  unix_time cert_expires_at = 0;
  unix_time enrolled_at = 0;
  unix_time last_seen = 0;  // written at most every 30 s (authenticate_agent)
  std::optional<unix_time> revoked_at;
};

// A certificate the server's CA signed for an agent.
struct issued_certificate {
  std::string pem;
  std::string sha256;  // hex, of the DER
  unix_time expires_at = 0;
};
// Signs the certificate of a new agent, given the id the store chose for it.
using certificate_issuer = std::function<result<issued_certificate>(const std::string& agent_id)>;

// A diagnostics request: a technician asks an agent for a profile.
enum class request_state { queued, awaiting_approval, collecting, uploading, done, failed };

struct request_info {
  std::string id;  // "req_…"
  std::string ticket_ref;
  std::string agent_id;
  std::string profile;
  std::optional<unix_time> since;
  std::optional<unix_time> until;
  std::vector<std::string> recipients;  // age1… keys the agent checks against its own
  request_state state = request_state::queued;
  std::string bundle_id;  // once an upload for it completed
  std::string error;      // why it failed
  unix_time created_at = 0;
  unix_time updated_at = 0;
};

struct request_filter {
  std::string ticket_ref;  // empty: any
  std::string agent_id;    // empty: any
  std::optional<request_state> state;
  std::size_t limit = 100;
};

// What an agent reports about a request.
struct request_update {
  request_state state = request_state::queued;
  std::string error;
  std::string bundle_id;
};

std::string_view to_string(request_state s);
std::optional<request_state> parse_request_state(std::string_view s);
bool is_terminal(request_state s);  // done or failed
// The moves an agent may make (a same-state repeat is allowed too: an agent
// restarted after a crash reports again what it was doing).
bool transition_allowed(request_state from, request_state to);

class agent_store {
 public:
  virtual ~agent_store() = default;

  // Agents. enroll_agent consumes an enrollment token (access_store) and
  // records a new agent with the certificate `issue`
  // signs for its id, all or nothing: a token enrolls one agent at most.
  virtual result<agent_info> enroll_agent(const std::string& secret, unix_time now,
                                          const agent_facts& facts,
                                          const certificate_issuer& issue) = 0;
  // The agent presenting the certificate with this fingerprint, revoked or
  // not (the caller refuses revoked ones); not_found for an unknown or
  // expired certificate. Records last_seen, writing it at
  // most once per 30 s per agent so that long-polls do not write the database.
  virtual result<agent_info> authenticate_agent(const std::string& cert_sha256, unix_time now) = 0;
  virtual result<agent_info> get_agent(const std::string& id) = 0;
  // A page of the agents in the order they enrolled (enrolled_at, then id):
  // at most `limit`, those after the agent `after` ("": from the first);
  // not_found if `after` names no agent.
  virtual result<std::vector<agent_info>> list_agents(const std::string& after,
                                                      std::size_t limit) = 0;
  // Revoking a revoked agent changes nothing and returns it.
  virtual result<agent_info> revoke_agent(const actor& by, const std::string& id) = 0;
  virtual result<agent_info> update_agent_facts(const actor& agent, const agent_facts& facts,
                                                unix_time now) = 0;
  // The agent's new certificate, asked for with the one whose fingerprint is
  // `presented`. That one keeps working until the new one is first presented
  // (or it expires), so that a renewal whose answer was lost does not lock
  // the agent out.
  virtual result<agent_info> renew_agent_certificate(const actor& agent,
                                                     const std::string& presented,
                                                     const issued_certificate& cert) = 0;

  // Requests. create_request needs an open ticket and an agent not revoked.
  virtual result<request_info> create_request(const actor& by, const request_info& r) = 0;
  virtual result<request_info> get_request(const std::string& id) = 0;
  virtual result<std::vector<request_info>> list_requests(const request_filter& filter) = 0;
  // An agent's state report: only for its own requests (else not_found),
  // along transition_allowed (else bad_state; request_finished once done or
  // failed); done needs the request's bundle (bad_state otherwise).
  virtual result<request_info> update_request(const actor& agent, const std::string& id,
                                              const request_update& update) = 0;
};

}  // namespace valise::server
