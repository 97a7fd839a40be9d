// The outbox: deliveries owed to targets outside, written in the
// transaction of the change they report.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "valise/crypto/result.hpp"
#include "valise/server/store/types.hpp"

namespace valise::server {

// A delivery the server owes a target outside (outbox/: a webhook, a
// helpdesk's REST API), written in the transaction of the change it reports
// so that a crash loses none; delivered at least once, receivers
// de-duplicate by its id.
enum class outbox_state { pending, delivered, failed };
std::string_view to_string(outbox_state s);

struct outbox_entry {
  std::string id;  // "msg_…": the webhook-id
  std::string target;
  std::string ticket_ref;
  std::string event;    // "bundle.arrived", "request.failed", "bundles.purged"
  std::string payload;  // the event's data, a JSON object
  unix_time created_at = 0;
  unix_time since = 0;  // made, or last retried by hand: the give-up age counts from it
  std::uint32_t attempts = 0;
  unix_time next_attempt_at = 0;
  unsigned last_status = 0;  // of the last attempt; 0: no HTTP answer
  std::string last_error;
  std::optional<unix_time> delivered_at;
  outbox_state state = outbox_state::pending;
};

// Who an event concerns: its ticket, and the helpdesk connector the ticket
// came from ("" for a ticket made in valise).
struct outbox_subject {
  std::string ticket_ref;
  std::string connector;
};

// What the server does with events: which targets want this ticket's event
// (called with the store's lock held, inside the transaction: it may only
// look at configuration), and how many undelivered entries a target may
// hold; past it, an event for that target is dropped, audited as
// outbox.dropped, so a target that is down cannot fill the disk.
struct outbox_policy {
  std::function<std::vector<std::string>(const outbox_subject& subject, std::string_view event)>
      route;
  std::size_t max_pending_per_target = 10000;
  // Failed entries kept per target (the oldest go first) and how long
  // delivered ones are kept, for the record.
  std::size_t max_failed_per_target = 1000;
  std::int64_t keep_delivered = 7 * 86400;
  // After each commit that added entries, on the committing thread with the
  // store's lock held: it may only post work (wake the delivery worker).
  std::function<void()> enqueued;
};

// An attempt's outcome, as the delivery worker decided it.
struct outbox_attempt {
  enum class outcome { delivered, retry, give_up };
  outcome result = outcome::retry;
  unsigned status = 0;            // 0: no HTTP answer
  std::string error;              // what went wrong, for people; never a secret
  unix_time next_attempt_at = 0;  // retry only
};

struct outbox_counts {
  struct by_target {
    std::uint64_t pending = 0;
    std::uint64_t failed = 0;
  };
  std::map<std::string, by_target> targets;
};

class outbox_store {
 public:
  virtual ~outbox_store() = default;

  // Events of the store's changes are enqueued as the policy
  // routes them (none until it is set).
  virtual void set_outbox_policy(outbox_policy policy) = 0;
  // Pending entries due at `now`, the oldest first.
  virtual result<std::vector<outbox_entry>> due_outbox(unix_time now, std::size_t limit) = 0;
  // Records an attempt on a pending entry; delivered and given up are
  // audited (outbox.delivered, outbox.given_up). not_found if it is gone,
  // bad_state if it is no longer pending (retried by hand meanwhile is fine).
  virtual result<void> record_outbox_attempt(const std::string& id, const outbox_attempt& a,
                                             unix_time now) = 0;
  // A target that did not answer: its pending entries due before `until`
  // wait until then too, `error` as their last error (not an attempt), so
  // that one unreachable target costs one timeout per backoff, not one per
  // entry.
  virtual result<void> postpone_outbox(const std::string& target, unix_time until,
                                       const std::string& error) = 0;
  // Pending and failed entries (with_delivered: delivered ones too), the
  // newest first.
  virtual result<std::vector<outbox_entry>> list_outbox(bool with_delivered, std::size_t limit) = 0;
  // A pending or failed entry due now, its give-up age counted from now;
  // audited (outbox.retried). bad_state for a delivered one.
  virtual result<outbox_entry> retry_outbox(const actor& by, const std::string& id) = 0;
  virtual result<outbox_counts> count_outbox() = 0;
};

}  // namespace valise::server
