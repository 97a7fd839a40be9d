// Wakes across nodes (docs/cluster.md): the store sends NOTIFY on
// wake_channel in the transactions that create a request for an agent,
// revoke one, or append an audit record; each node LISTENs on a connection
// of its own and wakes its local long-polls. The node that made the change
// has already woken its own (and gets its own notification too: a second
// wake, which a long-poll answers by looking again).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "sql/sql.hpp"
#include "valise/common/secret_file.hpp"

namespace valise::server::cluster {

struct wake_handlers {
  std::function<void(const std::string& agent_id)> agent;  // a request for it, or its revocation
  std::function<void()> events;                            // an audit record ("*")
  std::function<void()> everything;  // after a lost connection: a wake may have been missed
};

// A connection listening on `channel`, made before the node serves so that
// nothing committed after its start goes unheard.
result<sql::connection> open_listening(const std::string& url, const char* channel,
                                       std::string& why);

// Waits for notifications on `db` (asio watches its socket) and hands them to
// `on`; a lost connection is reopened until it works, then everything is
// woken once. Reopening never blocks the I/O thread: libpq's socket is
// waited on through asio, each attempt given up after `attempt_budget`, and
// attempts paced as the store's own reconnects (sql/reconnect_pacing.hpp).
// Runs until its io_context stops, which `url` (the node's one wiped copy,
// password included) outlives.
boost::asio::awaitable<void> relay_wakes(
    const common::wiped_string& url, const char* channel, std::optional<sql::connection> db,
    wake_handlers on, std::chrono::milliseconds attempt_budget = std::chrono::seconds(2));

}  // namespace valise::server::cluster
