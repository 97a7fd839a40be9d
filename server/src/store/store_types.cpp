// The store's value types: names of enums, actor labels, error codes.
#include <algorithm>

#include "sql/sql.hpp"
#include "valise/server/store.hpp"

namespace valise::server {

std::string_view to_string(severity s) {
  switch (s) {
    case severity::blocking:
      return "blocking";
    case severity::semi_blocking:
      return "semi-blocking";
    case severity::non_blocking:
      return "non-blocking";
  }
  return "non-blocking";
}

std::string_view to_string(ticket_status s) {
  return s == ticket_status::open ? "open" : "resolved";
}

std::string_view to_string(role r) {
  switch (r) {
    case role::admin:
      return "admin";
    case role::technician:
      return "technician";
    case role::upload_link:
      return "upload-link";
    case role::agent:
      return "agent";
  }
  return "technician";
}

std::string_view to_string(request_state s) {
  switch (s) {
    case request_state::queued:
      return "queued";
    case request_state::awaiting_approval:
      return "awaiting_approval";
    case request_state::collecting:
      return "collecting";
    case request_state::uploading:
      return "uploading";
    case request_state::done:
      return "done";
    case request_state::failed:
      return "failed";
  }
  return "failed";
}

std::string_view to_string(outbox_state s) {
  switch (s) {
    case outbox_state::pending:
      return "pending";
    case outbox_state::delivered:
      return "delivered";
    case outbox_state::failed:
      return "failed";
  }
  return "failed";
}

std::string_view to_string(link_mode m) {
  return m == link_mode::passphrase ? "passphrase" : "recipients";
}

std::optional<link_mode> parse_link_mode(std::string_view s) {
  for (auto v : {link_mode::recipients, link_mode::passphrase})
    if (to_string(v) == s) return v;
  return std::nullopt;
}

std::optional<request_state> parse_request_state(std::string_view s) {
  using rs = request_state;
  for (auto v :
       {rs::queued, rs::awaiting_approval, rs::collecting, rs::uploading, rs::done, rs::failed})
    if (to_string(v) == s) return v;
  return std::nullopt;
}

bool is_terminal(request_state s) {
  return s == request_state::done || s == request_state::failed;
}

bool transition_allowed(request_state from, request_state to) {
  using rs = request_state;
  if (is_terminal(from)) return false;
  if (from == to || to == rs::failed) return true;
  switch (from) {
    case rs::queued:
      return to == rs::awaiting_approval || to == rs::collecting;
    case rs::awaiting_approval:
      return to == rs::collecting;
    case rs::collecting:
      return to == rs::uploading;
    case rs::uploading:
      return to == rs::done;
    case rs::done:
    case rs::failed:
      return false;
  }
  return false;
}

std::optional<severity> parse_severity(std::string_view s) {
  for (auto v : {severity::blocking, severity::semi_blocking, severity::non_blocking})
    if (to_string(v) == s) return v;
  return std::nullopt;
}

std::optional<ticket_status> parse_ticket_status(std::string_view s) {
  for (auto v : {ticket_status::open, ticket_status::resolved})
    if (to_string(v) == s) return v;
  return std::nullopt;
}

std::optional<role> parse_role(std::string_view s) {
  if (s == "admin") return role::admin;
  if (s == "technician") return role::technician;
  return std::nullopt;  // link tokens are made by links, not by name
}

std::string actor::label() const {
  if (id == "system") return "system";
  if (id.starts_with("helpdesk:")) return id;
  if (kind == role::upload_link) return "link:" + id;
  if (kind == role::agent) return "agent:" + id;
  if (session) return "user:" + name;
  return std::string(to_string(kind)) + ":" + name;
}

unix_time session_expires_at(const session_info& s, const session_policy& p) {
  return std::min(s.last_used_at + p.idle_timeout, s.created_at + p.lifetime);
}

actor actor::helpdesk(const std::string& connector) {
  actor a;
  a.kind = role::admin;
  a.id = "helpdesk:" + connector;
  a.name = connector;
  return a;
}

std::string_view to_string(helpdesk_effect e) {
  switch (e) {
    case helpdesk_effect::created:
      return "created";
    case helpdesk_effect::updated:
      return "updated";
    case helpdesk_effect::unchanged:
      return "unchanged";
    case helpdesk_effect::resolution_scheduled:
      return "resolution scheduled";
    case helpdesk_effect::resolution_cancelled:
      return "resolution cancelled";
    case helpdesk_effect::reopened:
      return "reopened";
  }
  return "unchanged";
}

actor actor::system() {
  actor a;
  a.kind = role::admin;
  a.id = "system";
  a.name = "system";
  return a;
}

// A pause stops the clock before the due date, not after: a ticket set
// pending once it was late stays late (its due date is kept, and earlier
// than the pause).
bool ticket_overdue(const ticket& t, unix_time now) {
  return t.status == ticket_status::open && t.due_at && now > *t.due_at &&
         (!t.pending_since || *t.due_at < *t.pending_since);
}

bool ticket_response_overdue(const ticket& t, unix_time now) {
  return t.status == ticket_status::open && !t.first_response_at && t.response_due_at &&
         now > *t.response_due_at && (!t.pending_since || *t.response_due_at < *t.pending_since);
}

namespace {

class store_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "valise.store"; }
  std::string message(int code) const override {
    switch (static_cast<store_errc>(code)) {
      case store_errc::not_found:
        return "not found";
      case store_errc::already_exists:
        return "already exists";
      case store_errc::ticket_resolved:
        return "the ticket is resolved";
      case store_errc::ticket_open:
        return "the ticket is open";
      case store_errc::bad_state:
        return "not possible in the upload's current state";
      case store_errc::budget_exceeded:
        return "over the upload link's byte budget";
      case store_errc::quota_exceeded:
        return "over the owner's upload budget";
      case store_errc::corrupt:
        return "the data directory is inconsistent (a file or record is missing)";
      case store_errc::schema_too_new:
        return "the database was written by a newer valise-server";
      case store_errc::locked:
        return "another valise-server is running on this data directory";
      case store_errc::revoked:
        return "the agent is revoked";
      case store_errc::request_finished:
        return "the request is already done or failed";
      case store_errc::has_bundle:
        return "the request already has its bundle";
      case store_errc::audit_key_missing:
        return "audit.key is missing but the audit trail has records signed with it: restore it "
               "from a backup of the data directory";
      case store_errc::audit_mismatch:
        return "the audit trail does not match audit.head: records were removed or rewritten";
      case store_errc::busy:
        return "another upload for the request is being written";
      case store_errc::link_expired:
        return "the upload link expired";
      case store_errc::link_revoked:
        return "the upload link was revoked";
      case store_errc::ticket_pending:
        return "the ticket is already pending";
      case store_errc::ticket_not_pending:
        return "the ticket is not pending";
    }
    return "store error";
  }
};

}  // namespace

const std::error_category& store_category() {
  static const store_error_category instance;
  return instance;
}

std::error_code make_error_code(store_errc e) {
  return {static_cast<int>(e), store_category()};
}

bool is_invalid_text(const std::error_code& ec) {
  return ec == sql::errc::invalid_text;
}

bool is_database_unavailable(const std::error_code& ec) {
  return ec == sql::errc::connection_lost;
}

}  // namespace valise::server
