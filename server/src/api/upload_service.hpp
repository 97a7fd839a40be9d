// tus at /api/v1/uploads as the server serves it: the protocol module
// (tus/) over valise's store through the upload policy (uploads/), its
// refusals worded as the API's errors, its work counted in the metrics.
#pragma once

#include <string>

#include "api/api_error.hpp"
#include "api/router.hpp"
#include "metrics.hpp"
#include "tus/tus_protocol.hpp"
#include "uploads/age_check.hpp"
#include "uploads/upload_policy.hpp"
#include "valise/server/store.hpp"

namespace valise::server {

// A tus refusal as the API's error response (api_error.hpp).
response tus_failure_response(const tus::failure& f);

// The upload policy's refusal as the API's error (uploads, links).
api_error api_error_of(uploads::refusal r);

class upload_service {
 public:
  // `locks`: claims uploads across the nodes of a cluster; null: one node.
  upload_service(store& db, uploads::limits lim, metrics& stats,
                 tus::upload_locks* locks = nullptr);

  response options() const { return protocol_.options(); }
  outcome create(const request_head& head, const actor& who, unix_time now);
  response head(const request_head& head, const actor& who, const std::string& id, unix_time now);
  outcome patch(const request_head& head, const actor& who, const std::string& id, unix_time now);
  response terminate(const request_head& head, const actor& who, const std::string& id);

 private:
  // Counts into the metrics.
  class counter final : public tus::upload_observer {
   public:
    explicit counter(metrics& stats) : stats_(stats) {}
    void started() override;
    void received(std::uint64_t bytes) override;
    void completed() override;
    void refused() override;

   private:
    metrics& stats_;
  };

  store& db_;
  uploads::upload_policy policy_;
  uploads::age_check age_;
  counter counter_;
  tus::protocol protocol_;
};

}  // namespace valise::server
