#include "uploads/upload_policy.hpp"

#include <fmt/format.h>

#include "tus/tus_headers.hpp"

namespace valise::server::uploads {
namespace {

class refusal_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "uploads.refusal"; }
  std::string message(int value) const override {
    switch (static_cast<refusal>(value)) {
      case refusal::bad_request:
        return "bad request";
      case refusal::no_recipients:
        return "no recipients";
      case refusal::request_finished:
        return "the request is over";
      case refusal::request_has_bundle:
        return "the request has its bundle";
      case refusal::quota_exceeded:
        return "over the owner's upload budget";
      case refusal::ticket_not_found:
        return "no such ticket";
      case refusal::not_age_encrypted:
        return "not an age file";
    }
    return "unknown refusal";
  }
};

tus::failure refuse(refusal why, std::string message, tus::header_list fields = {}) {
  return {.message = std::move(message), .refusal = why, .fields = std::move(fields)};
}

}  // namespace

const std::error_category& refusal_category() {
  static const refusal_category_impl category;
  return category;
}

std::error_code make_error_code(refusal r) {
  return {static_cast<int>(r), refusal_category()};
}

std::size_t age_check::prefix_length() const {
  return tus::age_prefix_length;
}

tus::content_check::verdict age_check::check(std::string_view first_bytes) const {
  switch (tus::check_age_prefix(first_bytes)) {
    case tus::age_prefix::age:
      return verdict::accepted;
    case tus::age_prefix::undecided:
      return verdict::undecided;
    case tus::age_prefix::not_age:
      return verdict::refused;
  }
  return verdict::refused;
}

tus::failure age_check::too_short() const {
  return refuse(refusal::not_age_encrypted, "the file is too small to be an age file");
}

tus::failure age_check::refused() const {
  return refuse(refusal::not_age_encrypted,
                "the upload does not begin like an age file; it was refused and deleted");
}

std::variant<link_terms, link_refusal> link_terms_for(const link_request& asked,
                                                      const server_config& config, unix_time now) {
  link_terms terms;
  if (asked.mode) {
    auto mode = parse_link_mode(*asked.mode);
    if (!mode)
      return link_refusal{refusal::bad_request, "mode must be \"recipients\" or \"passphrase\""};
    terms.mode = *mode;
  }
  if (terms.mode == link_mode::passphrase) {
    if (asked.recipients)
      return link_refusal{refusal::bad_request,
                          "a passphrase link takes no recipients: send one or the other"};
  } else {
    terms.recipients = asked.recipients ? *asked.recipients : config.recipients;
    if (terms.recipients.empty())
      return link_refusal{refusal::no_recipients,
                          "no age recipients to encrypt this link's drops to: server.toml names "
                          "none ([keys] recipients) and the request named none"};
  }
  // The default is at most max_link_lifetime (load_config checks it).
  std::uint64_t lifetime =
      asked.expires_in_s.value_or(static_cast<std::uint64_t>(config.link_expires_in.count()));
  terms.max_bytes = asked.max_bytes.value_or(config.link_max_bytes);
  if (terms.max_bytes == 0) return link_refusal{refusal::bad_request, "max_bytes must be positive"};
  terms.expires_at = now + static_cast<unix_time>(lifetime);
  return terms;
}

tus::checked<tus::size_limit> upload_policy::size_limit(const actor& who) const {
  tus::size_limit cap{limits_.max_upload_bytes, "this server's limit"};
  auto lower = [&](std::uint64_t bytes, std::string what) {
    if (bytes != 0 && bytes < cap.bytes) cap = {bytes, std::move(what)};
  };
  if (who.kind == role::technician || who.kind == role::admin)
    lower(limits_.technician_max_bytes, "this token's upload budget");
  if (who.kind == role::agent) {
    auto agent = db_.get_agent(who.id);
    if (!agent) return tus::refused(tus::error::internal, "could not read agent " + who.id);
    if (agent->facts.max_upload_bytes)
      lower(*agent->facts.max_upload_bytes, "this agent's cap (its spool_max_bytes)");
    else
      lower(limits_.agent_max_bytes,
            "the server's cap for agents that declare none (uploads.agent_max_bytes)");
  }
  return cap;
}

tus::checked<binding> upload_policy::bind(const actor& who, const tus::metadata& fields) const {
  auto named_ticket = tus::find(fields, "ticket");
  if (who.kind == role::upload_link) {
    if (named_ticket && *named_ticket != who.ticket_ref)
      return tus::refused(tus::error::forbidden, "this upload link is for another ticket");
    return binding{.ticket_ref = who.ticket_ref};
  }
  if (who.kind == role::agent)
    return bind_to_request(who, tus::find(fields, "request"), named_ticket);
  if (!named_ticket || named_ticket->empty())
    return tus::refused(tus::error::bad_request,
                        "Upload-Metadata must name the ticket (key ticket)");
  return binding{.ticket_ref = *named_ticket};
}

tus::checked<binding> upload_policy::bind_to_request(
    const actor& who, const std::optional<std::string>& request_id,
    const std::optional<std::string>& named_ticket) const {
  if (!request_id || request_id->empty())
    return tus::refused(tus::error::bad_request,
                        "an agent's upload must name its request (Upload-Metadata key request)");
  auto r = db_.get_request(*request_id);
  if (!r && r.error() != store_errc::not_found)
    return tus::refused(tus::error::internal, "could not read request " + *request_id);
  if (!r || r->agent_id != who.id)
    return tus::refused(tus::error::forbidden, "request " + *request_id + " is not this agent's");
  const std::string state(to_string(r->state));
  if (is_terminal(r->state))
    return refuse(refusal::request_finished, "request " + r->id + " is already " + state,
                  {{"state", state}});
  if (!r->bundle_id.empty())
    // An agent that lost its state learns which bundle answered the request.
    return refuse(refusal::request_has_bundle,
                  "request " + r->id + " already has bundle " + r->bundle_id,
                  {{"bundle_id", r->bundle_id}, {"state", state}});
  if (named_ticket && *named_ticket != r->ticket_ref)
    return tus::refused(tus::error::forbidden, "request " + r->id + " is for another ticket");
  return binding{.ticket_ref = r->ticket_ref, .request_id = r->id};
}

upload_quota upload_policy::quota(const actor& who, std::uint64_t cap) const {
  const bool token = who.kind == role::technician || who.kind == role::admin;
  return {.deferred_bytes = cap,
          .owner_max_bytes = token ? limits_.technician_max_bytes : 0,
          .min_free_bytes = limits_.min_free_bytes,
          .deferred_link_charge = smallest_age_file};
}

tus::checked<tus::creation_plan> upload_policy::replaced(const binding& b) const {
  if (b.request_id.empty()) return tus::creation_plan{};
  auto ids = db_.receiving_uploads(b.request_id);
  if (!ids) return tus::refused(tus::error::internal, "could not read request " + b.request_id);
  return tus::creation_plan{.replaces = std::move(*ids), .replaced_for = "request " + b.request_id};
}

tus::failure upload_policy::creation_refused(const actor& who, const binding& b,
                                             std::error_code ec) const {
  if (ec == store_errc::busy)
    return tus::refused(tus::error::locked,
                        "another upload for request " + b.request_id +
                            " began at the same time and is being written; retry once it stops");
  if (ec == std::errc::no_space_on_device)
    return tus::refused(tus::error::storage_full,
                        "the server is low on disk space: it takes no new uploads until its "
                        "operator frees some (uploads.min_free_bytes)");
  if (ec == store_errc::quota_exceeded)
    return refuse(refusal::quota_exceeded,
                  fmt::format("this token's unfinished and stored uploads would pass its "
                              "budget of {} bytes",
                              limits_.technician_max_bytes));
  // The request changed since bind looked: say how it is now.
  if (!b.request_id.empty() && ec != store_errc::ticket_resolved) {
    auto again = bind_to_request(who, b.request_id, std::nullopt);
    if (!again) return again.error();
  }
  return {.message = "ticket \"" + b.ticket_ref + "\"",
          .refusal = refusal::ticket_not_found,
          .cause = ec};
}

bool upload_policy::may_see(const actor& who, const upload_info& u) {
  const bool own_only = who.kind == role::upload_link || who.kind == role::agent;
  return !own_only || u.owner_id == who.id;
}

tus::checked<void> upload_policy::may_terminate(const tus::upload_info& u) {
  if (u.status == tus::upload_status::completed)
    return tus::refused(tus::error::forbidden,
                        "upload " + u.id + " is complete: a technician deletes its bundle instead");
  return {};
}

std::optional<std::uint64_t> upload_policy::metered_floor(const upload_info& u) {
  if (u.length || !u.owner_id.starts_with("lnk_")) return std::nullopt;
  return smallest_age_file;
}

}  // namespace valise::server::uploads
