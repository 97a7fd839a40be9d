// Who may upload what, in one place: the rules the tus module asks about
// through its hooks (uploads/store_uploads.hpp), and the terms of the links
// the API creates. The store keeps the checks that must be transactional
// (a link's budget charged with the upload it pays for, an owner's quota,
// a request's one bundle); this file decides what to ask of it.
//
// What a link may do, all told:
// - created by a technician for one ticket (link_terms_for: mode,
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
#include <variant>
#include <vector>

#include "tus/upload_store.hpp"
#include "valise/server/config.hpp"
#include "valise/server/store.hpp"

namespace valise::server::uploads {

// The policy's reasons to refuse; the API maps them to its errors.
enum class refusal {
  bad_request = 1,
  no_recipients,
  request_finished,
  request_has_bundle,
  quota_exceeded,
  ticket_not_found,
  not_age_encrypted,
};
const std::error_category& refusal_category();
std::error_code make_error_code(refusal r);

// [uploads]; zero in the last three: no such bound.
struct limits {
  std::uint64_t max_upload_bytes = 0;
  std::chrono::seconds expires_after{0};
  std::uint64_t technician_max_bytes = 0;  // per technician or admin token
  std::uint64_t agent_max_bytes = 0;       // agents that declare no cap
  std::uint64_t min_free_bytes = 0;        // on the data directory's disk
};

// The smallest age file ("age-encryption.org/v1\n"): shorter uploads are
// refused, and a link's deferred-length upload holds this much of the
// link's budget from its creation, so that a link cannot make uploads
// without end.
inline constexpr std::size_t smallest_age_file = 22;

// Uploads are age files: what their first bytes must look like.
class age_check final : public tus::content_check {
 public:
  std::size_t min_length() const override { return smallest_age_file; }
  std::size_t prefix_length() const override;
  verdict check(std::string_view first_bytes) const override;
  tus::failure too_short() const override;
  tus::failure refused() const override;
  std::string refusal_reason() const override { return "not an age-encrypted file"; }
};

// Where a new upload goes, as the policy decided.
struct binding {
  std::string ticket_ref;
  std::string request_id;  // an agent's upload: the request it answers
};

// What a technician asks of a new link; absent: the server's default.
struct link_request {
  std::optional<std::string> mode;
  std::optional<std::vector<std::string>> recipients;
  std::optional<std::uint64_t> expires_in_s;
  std::optional<std::uint64_t> max_bytes;
};

struct link_refusal {
  refusal code = refusal::bad_request;
  std::string message;
};

inline constexpr auto max_link_lifetime_s =
    static_cast<std::uint64_t>(std::chrono::seconds(max_link_lifetime).count());

// A new link's terms: its drops are encrypted to the keys it names, else
// the team's (none in passphrase mode); its lifetime and byte budget are
// the server's defaults unless asked.
std::variant<link_terms, link_refusal> link_terms_for(const link_request& asked,
                                                      const server_config& config, unix_time now);

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
  // The uploads a new one replaces: the request's unfinished ones.
  tus::checked<tus::creation_plan> replaced(const binding& b) const;
  // create_upload's refusal, worded.
  tus::failure creation_refused(const actor& who, const binding& b, std::error_code ec) const;
  // A link or an agent sees only its own uploads; others do not exist for it.
  static bool may_see(const actor& who, const upload_info& u);
  // An upload may be terminated until it is complete.
  static tus::checked<void> may_terminate(const tus::upload_info& u);
  // A link's upload without a length is metered (its budget charged as its
  // bytes arrive, whoever sends them): what it holds at least. nullopt:
  // not metered.
  static std::optional<std::uint64_t> metered_floor(const upload_info& u);

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

template <>
struct std::is_error_code_enum<valise::server::uploads::refusal> : std::true_type {};
