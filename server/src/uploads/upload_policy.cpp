#include "uploads/upload_policy.hpp"

#include <fmt/format.h>

#include "tus/tus_headers.hpp"

namespace valise::server::uploads {
namespace {

tus::failure refuse(refusal why, std::string message, tus::header_list fields = {}) {
  return {.code = why, .message = std::move(message), .fields = std::move(fields)};
}

}  // namespace

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
          .deferred_link_charge = metered_floor_bytes};
}

std::string upload_policy::filename(const tus::metadata& fields) {
  std::string name = tus::find(fields, "filename").value_or(tus::find(fields, "name").value_or(""));
  if (name.size() > 255) name.resize(255);
  for (char& c : name)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '_';
  return name.empty() ? "upload.age" : name;
}

std::int64_t upload_policy::expires_at(std::int64_t now) const {
  return now + limits_.expires_after.count();
}

result<void> upload_policy::check_room(const upload_file& file, std::uint64_t n) const {
  if (limits_.min_free_bytes == 0) return {};
  auto free = file.free_bytes();
  if (!free) return free.error();
  if (*free < limits_.min_free_bytes || *free - limits_.min_free_bytes < n)
    return std::make_error_code(std::errc::no_space_on_device);
  return {};
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
  const std::string ticket = "ticket \"" + b.ticket_ref + "\"";
  if (ec == store_errc::not_found) return refuse(refusal::ticket_not_found, "no " + ticket);
  return {.code = ec, .subject = ticket};  // the store's error, as the server words it
}

bool upload_policy::may_see(const actor& who, const upload_info& u) {
  const bool own_only = who.kind == role::upload_link || who.kind == role::agent;
  return !own_only || u.owner_id == who.id;
}

tus::checked<void> upload_policy::may_terminate(const tus::upload_view& u) {
  if (u.status == tus::upload_status::completed)
    return tus::refused(tus::error::forbidden,
                        "upload " + u.id + " is complete: a technician deletes its bundle instead");
  return {};
}

std::optional<std::uint64_t> upload_policy::metered_floor(const upload_info& u) {
  if (u.length || !u.owner_id.starts_with("lnk_")) return std::nullopt;
  return metered_floor_bytes;
}

}  // namespace valise::server::uploads
