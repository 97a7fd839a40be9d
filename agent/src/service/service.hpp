// `valise-agent run`: the long-running service. Threads, each with its own
// connection to the server:
//  - the poller: heartbeats, certificate renewal, and the job long-poll,
//    reconnecting with capped, jittered backoff;
//  - the worker: runs the job steps (job_runner) as jobs arrive or retries fall due;
//  - the control socket (control_server);
//  - the main thread: waits for SIGTERM/SIGINT and pings the systemd watchdog
//    only while the poller is alive.
// Idle, all of them block: no timer fires more often than the long-poll.
#pragma once

#include "config/agent_config.hpp"

namespace valise::agent {

// Exit status for "the server refuses this agent": restarting will not help
// (systemd: RestartPreventExitStatus).
inline constexpr int exit_refused = 78;

// Returns the process exit status; throws common::failure for set-up errors.
int run_service(const agent_config& config);

}  // namespace valise::agent
