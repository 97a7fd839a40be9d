// Who may upload what, in one place: the rules the tus module asks about
// through its hooks (uploads/store_uploads.hpp), and the terms of the links
// the API creates. The store keeps the checks that must be transactional
// (a link's budget charged with the upload it pays for, an owner's quota,
// a request's one bundle); this file decides what to ask of it.
//
// What a link may do, all told:
// - created by a technician for one ticket (link_terms.hpp: mode,
//   recipients, lifetime at most max_link_lifetime, byte budget);
// - its token works until it expires, is revoked or its ticket is resolved
//   (the store's authenticate; the API's admission words the refusal), and
//   only on the upload routes and GET /api/v1/link (api.cpp, access::link);
// - it uploads only to its own ticket (bind), sees only its own uploads
//   (may_see), and its uploads are charged to its byte budget: at creation
//   with their length, or, length deferred, as their bytes arrive
//   (metered_floor; the store charges in one transaction);
// - its uploads are age files (age_check) no larger than the server's
//   limit (size_limit), like everyone's.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>

#include "tus/upload_store.hpp"
#include "uploads/age_check.hpp"
#include "uploads/refusal.hpp"
#include "valise/server/store.hpp"

namespace valise::server::uploads {

// [uploads]; zero in the last three: no such bound.
struct limits {
  std::uint64_t max_upload_bytes = 0;
  std::chrono::seconds expires_after{0};
  std::uint64_t technician_max_bytes = 0;  // per technician or admin token
  std::uint64_t agent_max_bytes = 0;       // agents that declare no cap
  std::uint64_t min_free_bytes = 0;        // on the data directory's disk
};

// Where a new upload goes, as the policy decided.
struct binding {
  std::string ticket_ref;
  std::string request_id;  // an agent's upload: the request it answers
};

class upload_policy {
 public:
  upload_policy(store& db, limits lim) : db_(db), limits_(std::move(lim)) {}

  const limits& bounds() const { return limits_; }

  // The largest upload `who` may make, and what sets it (for messages).
  tus::checked<tus::size_limit> size_limit(const actor& who) const;
  // Which ticket (and request) a new upload of `who` goes to, from its
  // metadata ("ticket", "request").
  tus::checked<binding> bind(const actor& who, const tus::metadata& fields) const;
  // What create_upload is to check for `who`, whose uploads are up to `cap`.
  upload_quota quota(const actor& who, std::uint64_t cap) const;
  // A new upload's filename, from its metadata ("filename", else "name"):
  // only shown (to technicians, in Content-Disposition), never a path, and
  // without control bytes.
  static std::string filename(const tus::metadata& fields);
  // When a new upload made at `now` expires if still receiving.
  std::int64_t expires_at(std::int64_t now) const;
  // Whether `n` more bytes of `file` leave its disk above the server's
  // reserve (std::errc::no_space_on_device if not).
  result<void> check_room(const upload_file& file, std::uint64_t n) const;
  // The uploads a new one replaces: the request's unfinished ones.
  tus::checked<tus::creation_plan> replaced(const binding& b) const;
  // create_upload's refusal, worded.
  tus::failure creation_refused(const actor& who, const binding& b, std::error_code ec) const;
  // A link or an agent sees only its own uploads; others do not exist for it.
  static bool may_see(const actor& who, const upload_info& u);
  // An upload may be terminated until it is complete.
  static tus::checked<void> may_terminate(const tus::upload_view& u);
  // A link's upload without a length is metered (its budget charged as its
  // bytes arrive, whoever sends them): what it holds at least, from its
  // creation on (metered_floor_bytes). nullopt: not metered.
  static std::optional<std::uint64_t> metered_floor(const upload_info& u);
  static constexpr std::uint64_t metered_floor_bytes = smallest_age_file;

 private:
  // An agent's upload answers its own, unfinished request, on that
  // request's ticket; else the refusal (409 with the bundle id if the
  // request already has one).
  tus::checked<binding> bind_to_request(const actor& who,
                                        const std::optional<std::string>& request_id,
                                        const std::optional<std::string>& named_ticket) const;

  store& db_;
  limits limits_;
};

}  // namespace valise::server::uploads
