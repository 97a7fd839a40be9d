// Tickets: their life (open, pending, resolved), deadlines, comments, and
// the deliveries of helpdesk connectors that create and resolve them.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "valise/crypto/result.hpp"
#include "valise/server/store/types.hpp"

namespace valise::server {

enum class severity { blocking, semi_blocking, non_blocking };
enum class ticket_status { open, resolved };

// Names as the API and the database spell them ("semi-blocking", …).
std::string_view to_string(severity s);
std::string_view to_string(ticket_status s);
std::optional<severity> parse_severity(std::string_view s);
std::optional<ticket_status> parse_ticket_status(std::string_view s);

struct ticket {
  std::string ref;
  std::string title;
  severity level = severity::non_blocking;
  ticket_status status = ticket_status::open;
  unix_time created_at = 0;
  std::optional<unix_time> resolved_at;
  std::uint64_t bundle_count = 0;
  // What the last resolution said (none if it said nothing); a reopening
  // keeps it.
  std::optional<std::string> resolution;
  // Deadlines in business time (the calendar's targets from created_at,
  // pushed back by the pauses); none while pending (the clock is stopped) or
  // without a deadline rule. first_response_at: a technician's first link,
  // request or comment.
  std::optional<unix_time> response_due_at;
  std::optional<unix_time> due_at;
  std::optional<unix_time> first_response_at;
  std::optional<unix_time> pending_since;  // set pending (waiting on the client)
  // As of when the ticket was read (ticket_overdue below).
  bool overdue = false;
  bool response_overdue = false;
  // The [helpdesk.NAME] connector it came from; empty: made in valise.
  std::string connector;
};

// Open, not pending and past due_at; response: besides, nobody answered yet
// and past response_due_at.
bool ticket_overdue(const ticket& t, unix_time now);
bool ticket_response_overdue(const ticket& t, unix_time now);

// A stretch of time a ticket was pending; `to` is none while it lasts.
struct ticket_pause {
  unix_time from = 0;
  std::optional<unix_time> to;
};

// A ticket's due dates, as the deadline rule (the business calendar, which
// the store does not know) computes them from its severity, creation time
// and pauses.
struct ticket_deadlines {
  std::optional<unix_time> response_due_at;
  std::optional<unix_time> due_at;
};
using deadline_rule = std::function<ticket_deadlines(severity level, unix_time created_at,
                                                     const std::vector<ticket_pause>& pauses)>;

// Open and overdue tickets of one severity (/metrics).
struct ticket_counts {
  std::uint64_t open = 0;
  std::uint64_t overdue = 0;
};

// A webhook delivery from a helpdesk connector, as the hook route read it
// (api/hook_routes.cpp): the store applies it in one transaction with the
// record that refuses its replay.
struct helpdesk_delivery {
  std::string connector;
  std::string delivery_id;
  std::string content_id;  // the signature (or body hash): a replay under a new id is one too
  std::string event;       // "updated", "solved", "closed", "reopened"
  std::string ticket_ref;
  std::string title;
  severity level = severity::non_blocking;
  std::string status;           // as the helpdesk wrote it
  unix_time grace_seconds = 0;  // solved, closed: resolve this long after now
  unix_time forget_before = 0;  // the connector's delivery ids older than this are pruned
};

// What a delivery did to valise's ticket.
enum class helpdesk_effect {
  created,
  updated,
  unchanged,
  resolution_scheduled,
  resolution_cancelled,
  reopened,
};
std::string_view to_string(helpdesk_effect e);

struct helpdesk_outcome {
  helpdesk_effect effect = helpdesk_effect::unchanged;
  std::optional<unix_time> resolve_at;  // resolution_scheduled (or already scheduled)
};

// A resolution whose grace period is over.
struct due_resolution {
  std::string ticket_ref;
  std::string connector;
  std::string event;  // "solved", "closed"
};

// A technician's note on a ticket. Its author is the token's or the user's
// name, and its kind: "user" (a console account), "technician" or "admin"
// (a token of that role).
struct comment_info {
  std::string id;  // "cmt_…"
  std::string ticket_ref;
  std::string author;
  std::string author_kind;
  unix_time created_at = 0;
  std::string text;
};

struct ticket_filter {
  std::optional<ticket_status> status;
  std::optional<severity> level;
  bool overdue_only = false;  // ticket_overdue at `now`
  unix_time now = 0;
  bool by_due_date = false;  // soonest due first (none last), else newest first
  std::size_t limit = 100;
};

class ticket_store {
 public:
  virtual ~ticket_store() = default;

  // Tickets.
  virtual result<ticket> create_ticket(const actor& by, const ticket& t) = 0;
  virtual result<ticket> get_ticket(const std::string& ref) = 0;
  virtual result<std::vector<ticket>> list_tickets(const ticket_filter& filter) = 0;
  // Deletes every bundle and partial upload of the ticket, revokes its links
  // and fails its unfinished requests, before returning what was destroyed.
  // `resolution` (what fixed it) replaces the ticket's previous one; the
  // ticket.resolved record keeps each.
  virtual result<purge_report> resolve_ticket(const actor& by, const std::string& ref,
                                              const std::optional<std::string>& resolution) = 0;
  virtual result<ticket> reopen_ticket(const actor& by, const std::string& ref) = 0;

  // Deadlines. The rule computes due dates whenever a ticket's clock
  // changes (creation, pending, resume, resolution); without one, tickets
  // have none. refresh_deadlines recomputes every open ticket's and every
  // one still without (start-up: tickets from before deadlines, a calendar
  // changed in server.toml), and returns how many it wrote.
  virtual void set_deadline_rule(deadline_rule rule) = 0;
  virtual result<std::size_t> refresh_deadlines() = 0;
  // Pending stops an open ticket's clock until resume (ticket.pending and
  // ticket.resumed in the trail); ticket_resolved, ticket_pending (already
  // pending) or ticket_not_pending. Resolving a pending ticket ends its pause.
  virtual result<ticket> set_pending(const actor& by, const std::string& ref) = 0;
  virtual result<ticket> resume_ticket(const actor& by, const std::string& ref) = 0;
  // Indexed by severity, at `now`.
  virtual result<std::array<ticket_counts, 3>> count_tickets(unix_time now) = 0;

  // Helpdesk connectors (issue 16). apply_helpdesk_delivery records the
  // delivery id (already_exists: a replay) and its effect in one
  // transaction: an unknown ticket is created with the connector (unless
  // the delivery says solved or closed: nothing to follow), a known one
  // updated; solved/closed schedules its resolution grace_seconds later,
  // reopened cancels that or reopens a resolved ticket. bad_state: the ref
  // is another connector's ticket. Each delivery leaves one audit record
  // with its connector and id. due_helpdesk_resolutions: those whose time
  // has come, of open tickets (a read, nothing written). resolve_scheduled
  // resolves (and purges) one by its helpdesk ("solved in NAME") if it is
  // still scheduled and due, in the transaction that checks it, so that a
  // reopening that lands first wins; not_found if it is not.
  virtual result<helpdesk_outcome> apply_helpdesk_delivery(const helpdesk_delivery& d,
                                                           unix_time now) = 0;
  virtual result<std::vector<due_resolution>> due_helpdesk_resolutions(unix_time now) = 0;
  virtual result<purge_report> resolve_scheduled(const std::string& ref, unix_time now) = 0;

  // Comments, on open and resolved tickets alike (a client may answer after
  // the resolution). add_comment records comment.added with the text, so the
  // audit trail alone tells the ticket's story; not_found for an unknown
  // ticket. list_comments: oldest first, at most `limit`.
  virtual result<comment_info> add_comment(const actor& by, const std::string& ticket_ref,
                                           const std::string& text) = 0;
  virtual result<std::vector<comment_info>> list_comments(const std::string& ticket_ref,
                                                          std::size_t limit) = 0;
};

}  // namespace valise::server
