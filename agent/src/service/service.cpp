#include "service/service.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

#include "delivery/passphrase_delivery.hpp"
#include "enroll/enroll.hpp"
#include "remote/reconnect.hpp"
#include "service/control_socket.hpp"
#include "service/job_runner.hpp"
#include "service/working_set.hpp"
#include "valise/common/failure.hpp"
#include "valise/common/version.hpp"

namespace valise::agent {
namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

struct shared_state {
  std::atomic<bool> stopping{false};
  std::atomic<int> exit_status{0};
  std::atomic<clock::rep> poller_alive{clock::now().time_since_epoch().count()};
  std::atomic<int> running{0};
  // Counts certificate renewals: the server refuses the replaced certificate
  // once the new one is used, so every connection must take the new one.
  std::atomic<unsigned> certificates{0};
  // Set by the worker whenever it goes to wait: start-up, or a job step, is
  // over, and what they touched can go (release_idle_memory).
  std::atomic<bool> worker_idle{false};
  std::mutex mutex;
  std::condition_variable stop_requested;

  void alive() { poller_alive = clock::now().time_since_epoch().count(); }
  // Sleeps up to `d`, returning early when stopping.
  void sleep(std::chrono::milliseconds d) {
    std::unique_lock lock(mutex);
    stop_requested.wait_for(lock, d, [&] { return stopping.load(); });
  }
  void stop(int status) {
    if (status != 0) exit_status = status;
    std::lock_guard lock(mutex);
    stopping = true;
    stop_requested.notify_all();
  }
};

common::https_client connect(const agent_config& config, std::chrono::seconds io_timeout) {
  auto options = mtls_options(config, config.server);
  options.io_timeout = io_timeout;
  return common::check(common::https_client::create(std::move(options)), config.server);
}

bool refused(std::error_code ec) {
  return ec == common::make_status_error(401) || ec == common::make_status_error(403);
}

attempt_end how_it_ended(std::error_code ec) {
  if (ec == common::make_status_error(503) || ec == common::make_status_error(429))
    return attempt_end::busy;
  // Closed by the other side once established (the client sends a request
  // again once when a kept-alive connection was closed before it).
  if (ec == common::make_error_code(common::http_errc::connection_closed)) return attempt_end::cut;
  return attempt_end::failed;
}

void poll_loop(const agent_config& config, job_store& jobs, shared_state& shared) {
  const auto io_timeout = config.poll_timeout + 20s;
  auto http = connect(config, io_timeout);
  const auto host = describe_host(config.remote_profiles(), config.spool_max_bytes);
  std::mt19937 random{std::random_device{}()};
  reconnect_backoff backoff({.cap = config.backoff_max});
  auto next_heartbeat = clock::now();
  while (!shared.stopping) {
    shared.alive();
    std::error_code error;
    std::string detail;
    collector_api api(http);
    auto sent = clock::now();
    if (clock::now() >= next_heartbeat) {
      if (auto h = api.heartbeat(host); !h) {
        error = h.error(), detail = api.last_error();
      } else {
        next_heartbeat = clock::now() + config.heartbeat_interval;
        if (auto r = renew_if_due(config, http); r && *r == renewal::renewed) {
          spdlog::info("certificate renewed");
          http = connect(config, io_timeout);
          ++shared.certificates;
          continue;
        } else if (!r) {
          spdlog::warn("certificate renewal failed, will retry: {}", r.error().message());
        }
      }
    }
    if (!error) {
      sent = clock::now();
      auto polled = api.poll_jobs(config.poll_timeout);
      if (polled) {
        if (backoff.failures() > 0) spdlog::info("connected to {} again", config.server);
        backoff.succeeded();
        for (const auto& j : *polled)
          if (jobs.add(j))
            spdlog::info("job {}: ticket {} requests profile {}", j.id, j.ticket, j.profile);
        continue;
      }
      error = polled.error(), detail = api.last_error();
    }
    if (refused(error)) {
      spdlog::critical(
          "the server refuses this agent ({}{}): it was revoked or is unknown; "
          "enroll it again with a new token",
          error.message(), detail.empty() ? "" : ": " + detail);
      shared.stop(exit_refused);
      return;
    }
    const auto wait =
        backoff.failed(how_it_ended(error),
                       std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - sent),
                       api.retry_after(), std::uniform_real_distribution<>(0, 1)(random));
    spdlog::warn("cannot reach {}: {}{}; retrying in {:.1f} s", config.server, error.message(),
                 detail.empty() ? "" : " (" + detail + ")",
                 static_cast<double>(wait.count()) / 1000);
    http.close();
    for (auto left = wait; left > 0ms && !shared.stopping; left -= 10s) {
      shared.alive();
      shared.sleep(std::min<std::chrono::milliseconds>(left, 10s));
    }
  }
}

constexpr auto worker_io_timeout = 120s;

// `http` is made before the poller starts: a renewal then cannot change the
// key and certificate files under it.
void work_loop(const agent_config& config, job_store& jobs, shared_state& shared,
               common::https_client http) {
  unsigned certificate = 0;
  job_runner runner(config, jobs, http, shared.stopping);
  auto next_housekeeping = clock::now();
  while (!shared.stopping) {
    if (certificate != shared.certificates) {
      certificate = shared.certificates;
      http = connect(config, worker_io_timeout);  // the runner holds a reference to it
    }
    if (clock::now() >= next_housekeeping) {
      runner.expire_spool();
      expire_passphrase_files(config.delivery, config.state_dir);
      jobs.prune(std::chrono::hours(24 * 30));
      next_housekeeping = clock::now() + 10min;
    }
    const auto retry = runner.run_pending();
    if (shared.stopping) break;
    shared.worker_idle = true;
    jobs.wait(retry ? *retry : std::chrono::milliseconds(10min));
  }
}

}  // namespace

int run_service(const agent_config& configured) {
  const auto files = credential_files::in(configured.state_dir);
  finish_interrupted_renewal(files);
  const auto identity = load_identity(files.identity);
  if (!identity)
    common::fail("this agent is not enrolled (" + files.identity.string() + ")",
                 "run `valise-agent enroll --token TOKEN --ca FILE` first");
  // The server enrolled with, unless the config names another.
  agent_config config = configured;
  if (config.server.empty()) config.server = identity->server;

  // Signals are taken by sigwait below, in one thread, before any other starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  job_store jobs(config.state_dir / "jobs");
  jobs.load();
  control_server control(config.control_socket, jobs);
  shared_state shared;
  const auto guarded = [&](auto loop) {
    ++shared.running;
    return [&, loop] {
      try {
        loop(config, jobs, shared);
      } catch (const common::failure& f) {
        spdlog::critical("{}{}", f.message, f.hint.empty() ? "" : " (" + f.hint + ")");
        shared.stop(1);
      }
      jobs.wake();
      --shared.running;
    };
  };
  auto worker_http = connect(config, worker_io_timeout);
  std::thread worker(guarded([&](const agent_config& c, job_store& j, shared_state& s) {
    work_loop(c, j, s, std::move(worker_http));
  }));
  std::thread poller(guarded(poll_loop));

  sd_notify(0, "READY=1");
  spdlog::info("valise-agent {} serving {} ({} profiles, {} for remote requests)", common::version,
               config.server, config.profiles.size(), config.remote_profiles().size());
  std::uint64_t watchdog_usec = 0;
  const bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0;
  // At most 5 s, also under a long watchdog interval: idle memory is given
  // back at the next wake-up after the worker went idle.
  const auto ping_every = std::min<std::chrono::microseconds>(
      watchdog ? std::chrono::microseconds(watchdog_usec / 3) : 5s, 5s);
  // The poller blocks at most one long-poll plus its I/O deadlines at a time.
  const auto poller_deadline = config.poll_timeout + 20s + 15s + 20s;
  while (!shared.stopping) {
    timespec wait{std::chrono::duration_cast<std::chrono::seconds>(ping_every).count(),
                  static_cast<long>(ping_every.count() % 1000000 * 1000)};
    const int signal = sigtimedwait(&signals, nullptr, &wait);
    if (signal == SIGTERM || signal == SIGINT) {
      spdlog::info("stopping (signal {})", signal);
      break;
    }
    const auto since_alive = clock::now() - clock::time_point(clock::duration(shared.poller_alive));
    if (watchdog && since_alive < poller_deadline) sd_notify(0, "WATCHDOG=1");
    if (shared.worker_idle.exchange(false)) {
      const auto released = release_idle_memory();
      spdlog::debug("idle: {} KiB of code and read-only data unmapped", released / 1024);
    }
  }
  sd_notify(0, "STOPPING=1");
  shared.stop(0);
  jobs.wake();
  // A long-poll or an upload in flight may take a while to notice. Every
  // step's state is on disk, so after a short grace the process ends without
  // them: the next start goes on from there, as after kill -9.
  for (int i = 0; i < 50 && shared.running > 0; ++i) std::this_thread::sleep_for(100ms);
  if (shared.running > 0) {
    spdlog::info("stopped with a network call in flight; it resumes at the next start");
    spdlog::shutdown();
    std::_Exit(shared.exit_status);
  }
  poller.join();
  worker.join();
  return shared.exit_status;
}

}  // namespace valise::agent
