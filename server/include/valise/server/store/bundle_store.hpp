// Uploads while their bytes arrive, the bundles they become, and their
// deletion: by hand, at a ticket's resolution (ticket_store) or by retention.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "valise/server/store/files.hpp"
#include "valise/server/store/types.hpp"

namespace valise::server {

enum class upload_state { receiving, completed, refused };

struct upload_info {
  std::string id;
  std::string ticket_ref;
  std::string owner_id;  // actor id that created it
  std::string source;    // actor label, copied to the bundle
  std::string filename;
  std::string metadata;                 // the Upload-Metadata header as received
  std::optional<std::uint64_t> length;  // absent while deferred
  std::uint64_t offset = 0;             // bytes durably received
  unix_time created_at = 0;
  unix_time updated_at = 0;  // the last byte's arrival (created_at before any)
  unix_time expires_at = 0;
  upload_state state = upload_state::receiving;
  std::string bundle_id;   // once completed
  std::string sha256;      // once completed
  std::string request_id;  // agent uploads: the request it answers
};

// What create_upload checks besides the ticket and the request. Bytes an
// owner holds are the lengths of its unfinished (unexpired) and completed
// uploads, an upload without a length counting as `deferred_bytes`.
struct upload_quota {
  std::uint64_t deferred_bytes = 0;   // what a deferred-length upload may grow to
  std::uint64_t owner_max_bytes = 0;  // 0: no budget for this owner
  std::uint64_t min_free_bytes = 0;   // left free on the data directory's disk
  // What a link's deferred-length upload holds of the link's budget from its
  // creation (the smallest age file): a link cannot make uploads without end.
  std::uint64_t deferred_link_charge = 0;
  // The request's unfinished uploads the caller holds (leased) and may
  // replace; any other one began after the caller looked (a concurrent
  // creation still writing it): busy.
  std::vector<std::string> replaces;
};

struct bundle_info {
  std::string id;
  std::string ticket_ref;
  std::string filename;
  std::uint64_t size = 0;
  std::string sha256;  // hex
  unix_time created_at = 0;
  std::string source;
};

class bundle_store {
 public:
  virtual ~bundle_store() = default;

  // Uploads. create_upload charges a link's budget with `length` (if known),
  // checks `quota` (quota_exceeded; no_space_on_device when the disk would
  // go under its reserve); an agent's upload names its request, which must
  // be the agent's, not finished and without a bundle yet; it replaces the
  // request's unfinished uploads (their bytes deleted, audited as
  // upload.replaced); completion links the bundle to it.
  virtual result<upload_info> create_upload(const actor& by, upload_info u,
                                            const upload_quota& quota) = 0;
  virtual result<upload_info> get_upload(const std::string& id) = 0;
  // The ticket's unfinished, unexpired uploads, oldest first (live progress:
  // each offset is the partial file's size now).
  virtual result<std::vector<upload_info>> receiving_uploads_of_ticket(
      const std::string& ticket_ref, unix_time now) = 0;
  // The unfinished uploads answering a request (those create_upload replaces).
  virtual result<std::vector<std::string>> receiving_uploads(const std::string& request_id) = 0;
  virtual result<upload_file> open_upload_file(const std::string& id) = 0;
  // A file without a name beside the upload's, for a checksummed PATCH's
  // body until its digest matched: a crash mid-PATCH leaves nothing.
  virtual result<upload_file> open_upload_scratch(const std::string& id) = 0;
  // Sets a deferred length (a link's upload then holds exactly that much of
  // its budget: budget_exceeded if it cannot).
  virtual result<void> set_upload_length(const actor& by, const std::string& id,
                                         std::uint64_t length) = 0;
  // A link's deferred-length upload holds part of the link's byte budget,
  // charged as its bytes arrive: sets that part to `want` if the budget
  // allows, else raises it as far as the budget allows (never lowers it
  // then), in one transaction, so that uploads on one link never together
  // pass its budget. Returns what the upload holds now. Uploads that are not
  // a link's hold nothing: `want` is returned. not_found: the upload is gone
  // (deleted while a PATCH streamed).
  virtual result<std::uint64_t> reserve_link_bytes(const std::string& upload_id,
                                                   std::uint64_t want) = 0;
  // fsyncs the file, records the bundle, moves the file to bundles/.
  virtual result<bundle_info> complete_upload(const actor& by, const std::string& id,
                                              const std::string& sha256) = 0;
  // Deletes the bytes and marks the upload refused (plaintext, …).
  virtual result<void> refuse_upload(const actor& by, const std::string& id,
                                     const std::string& reason) = 0;
  virtual result<void> terminate_upload(const actor& by, const std::string& id) = 0;

  // Bundles.
  virtual result<std::vector<bundle_info>> list_bundles(const std::string& ticket_ref) = 0;
  virtual result<bundle_info> get_bundle(const std::string& id) = 0;
  // Opens the content and records the download in the audit trail.
  virtual result<bundle_file> open_bundle(const actor& by, const std::string& id) = 0;
  virtual result<purged_bundle> delete_bundle(const actor& by, const std::string& id) = 0;

  // Retention: bundles created before `bundles_before`, uploads expired at `now`.
  virtual result<purge_report> purge_expired(unix_time bundles_before, unix_time now) = 0;

  // Gauges for /metrics.
  struct totals {
    std::uint64_t bundles = 0;
    std::uint64_t bundle_bytes = 0;
  };
  virtual result<totals> count() = 0;
};

}  // namespace valise::server
