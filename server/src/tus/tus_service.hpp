// The tus 1.0.0 protocol at /api/v1/uploads (docs/api.md): core, creation,
// creation-with-upload, creation-defer-length, termination, expiration and
// checksum, over the store. One method per HTTP method; request bodies are
// streamed through a body_receiver, never held in memory.
#pragma once

#include <chrono>
#include <string>

#include "http/router.hpp"
#include "metrics.hpp"
#include "tus/upload_registry.hpp"
#include "valise/server/store.hpp"

namespace valise::server::tus {

// Zero in the last three: no such bound.
struct limits {
  std::uint64_t max_upload_bytes = 0;
  std::chrono::seconds expires_after{0};
  std::uint64_t technician_max_bytes = 0;  // per technician or admin token
  std::uint64_t agent_max_bytes = 0;       // agents that declare no cap
  std::uint64_t min_free_bytes = 0;        // on the data directory's disk
  std::string base_path = "/api/v1/uploads";
};

class service {
 public:
  service(store& db, limits lim, metrics& stats)
      : db_(db), limits_(std::move(lim)), stats_(stats) {}

  response options() const;
  outcome create(const request_head& head, const actor& who, unix_time now);
  response head(const request_head& head, const actor& who, const std::string& id, unix_time now);
  outcome patch(const request_head& head, const actor& who, const std::string& id, unix_time now);
  response terminate(const request_head& head, const actor& who, const std::string& id);

 private:
  friend class upload_receiver;
  // An agent's upload answers its own, unfinished request, on that
  // request's ticket; else the refusal (409 with the bundle id if the
  // request already has one).
  std::optional<response> bind_to_request(const actor& who,
                                          const std::optional<std::string>& request_id,
                                          const std::optional<std::string>& named_ticket,
                                          upload_info& u);
  // The largest upload `who` may make, and what sets it (for messages).
  struct upload_cap {
    std::uint64_t bytes = 0;
    std::string what;
  };
  result<upload_cap> cap_for(const actor& who);
  // What create_upload is to check for `who`, whose uploads are up to `cap`.
  upload_quota quota_for(const actor& who, std::uint64_t cap) const;
  // Leases the unfinished uploads of the request that a new one replaces;
  // else the refusal (one is being written).
  std::variant<std::vector<upload_registry::lease>, response> lease_replaced(
      const std::string& request_id);
  // The upload if `who` may touch it; else the response to send.
  std::variant<upload_info, response> find_upload(const actor& who, const std::string& id,
                                                  unix_time now);
  // `cap`: where an upload without a length must stop.
  outcome receive(const request_head& head, const actor& who, upload_info upload,
                  upload_registry::lease lease, std::uint64_t offset, std::uint64_t cap,
                  bool creating);

  store& db_;
  limits limits_;
  metrics& stats_;
  upload_registry registry_;
};

}  // namespace valise::server::tus
