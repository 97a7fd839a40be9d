#include "valise/server/server.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <thread>

#include "api/api.hpp"
#include "clock/clock.hpp"
#include "cluster/leader.hpp"
#include "cluster/wake_relay.hpp"
#include "deadlines/deadlines.hpp"
#include "http/connection.hpp"
#include "http/tls_contexts.hpp"
#include "metrics.hpp"
#include "outbox/delivery_worker.hpp"
#include "pki.hpp"
#include "store/connection_url.hpp"
#include "uploads/cluster_locks.hpp"

namespace valise::server {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::optional<tcp::endpoint> parse_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec) return std::nullopt;
  unsigned long port = 0;
  try {
    port = std::stoul(listen.substr(colon + 1));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (port > 65535) return std::nullopt;
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

// Each waiting agent holds a descriptor: take the hard limit, and say so if
// even that is below what max_connections needs.
void raise_descriptor_limit(unsigned max_connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &limit);
  }
  // Each connection: a socket, and a file while it uploads or downloads.
  const rlim_t needed = 2 * static_cast<rlim_t>(max_connections) + 64;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed)
    spdlog::warn(
        "open-file limit {} is below the {} that server.max_connections = {} may need: raise "
        "LimitNOFILE in the unit, or lower max_connections",
        limit.rlim_cur, needed, max_connections);
}

// Writes the audit summaries of folded refusals once their interval ended.
asio::awaitable<void> refusal_loop(api& app, std::chrono::seconds interval) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(std::max(std::chrono::seconds(1), interval / 4));
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    app.flush_refusals(clock::now());
  }
}

void purge_now(store& db, metrics& stats, const server_config& config) {
  auto now = clock::now();
  unix_time before = config.retention.count() == 0 ? std::numeric_limits<unix_time>::min()
                                                   : now - config.retention.count();
  auto report = db.purge_expired(before, now);
  if (!report) {
    spdlog::error("retention purge failed: {}", report.error().message());
    return;
  }
  stats.purged_bundles.fetch_add(report->bundles.size(), std::memory_order_relaxed);
  if (!report->bundles.empty() || !report->uploads.empty())
    spdlog::info("retention purge: {} bundles, {} expired uploads", report->bundles.size(),
                 report->uploads.size());
}

// How often the server writes a checkpoint of the audit trail, if records
// were added: removing records newer than the last checkpoint goes unseen
// (docs/security.md), and each checkpoint costs a small file's fsync.
constexpr std::chrono::seconds audit_checkpoint_interval{60};

// A checkpoint to audit.head, and its line to the journal (no secret in it).
void checkpoint_now(store& db, bool always_log) {
  auto report = db.checkpoint_audit();
  if (!report) {
    spdlog::error("audit checkpoint not written: {}", report.error().message());
    return;
  }
  if (report->written || always_log) spdlog::info("audit checkpoint: {}", report->line);
}

// The jobs below run on the cluster's leader only (cluster/leader.hpp;
// always, with SQLite). Each reads what is due inside its transaction, so
// two nodes that both believe they lead for a moment at a hand-over purge,
// resolve or checkpoint nothing twice: the second finds nothing due.
asio::awaitable<void> checkpoint_loop(store& db, const cluster::leader& lead) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(audit_checkpoint_interval);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    if (lead.leading()) checkpoint_now(db, false);
  }
}

asio::awaitable<void> retention_loop(store& db, metrics& stats, const server_config& config,
                                     const cluster::leader& lead) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(std::max(std::chrono::seconds(1), config.purge_interval));
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    if (lead.leading()) purge_now(db, stats, config);
  }
}

// Resolutions a helpdesk asked for, performed when their grace period
// ends: looked for every second (grace periods are seconds to days).
asio::awaitable<void> helpdesk_loop(store& db, metrics& stats, const cluster::leader& lead) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    if (lead.leading()) resolve_due_helpdesk_tickets(db, stats, clock::now());
    timer.expires_after(std::chrono::seconds(1));
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
  }
}

// How old a partial file must be before the leader's reconcile may remove
// it or finish its move, with several nodes: longer than any upload or
// completion takes between its record's commit and its file's creation or
// move on another node (docs/cluster.md).
constexpr std::chrono::seconds reconcile_min_age{3600};

// How often the certificate and key files are looked at: a renewal
// (certbot writes new files) is served within this, without a signal.
constexpr std::chrono::seconds certificate_poll_interval{5};

void reload_certificate(tls_contexts& tls, std::string_view why) {
  if (auto r = tls.reload(); !r) {
    spdlog::error("TLS certificate not reloaded ({}): {}; still serving the previous one", why,
                  r.error());
    return;
  }
  spdlog::info("TLS certificate reloaded ({}): {}", why, tls.describe());
}

asio::awaitable<void> certificate_watch(tls_contexts& tls) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(certificate_poll_interval);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    if (tls.stamp() != tls.loaded_stamp()) reload_certificate(tls, "the files changed");
  }
}

}  // namespace

boost::system::result<void, std::string> run(const server_config& config) {
  auto endpoint = parse_listen(config.listen);
  if (!endpoint) return problem{"server.listen \"" + config.listen + "\" is not HOST:PORT"};
  if (auto bad = clock::check_fake_clock()) return problem{std::move(*bad)};
  if (const auto& file = clock::fake_clock_file())
    spdlog::warn("the clock is fake: VALISE_TEST_CLOCK={} sets the time, for tests only", *file);
  std::string why;
  // PostgreSQL's URL with its password (empty with SQLite), built once for
  // the store's connection and the cluster's (leader, upload locks, wakes)
  // and wiped when the node stops; libpq keeps its own copies to reconnect.
  // Its connections carry the node's name, which `status` looks for.
  const auto url =
      connection_url(config.database(), &why,
                     "application_name=" + percent_encoded(cluster::node_name(config.listen)));
  if (!url) return problem{"cannot open the store in " + config.data_dir.string() + ": " + why};
  const common::wiped_string& store_url = *url;
  auto db =
      store::open(config.data_dir, config.database(), store_url, store::open_mode::serve, &why);
  if (!db) return problem{"cannot open the store in " + config.data_dir.string() + ": " + why};
  if (!config.store_url.empty()) spdlog::info("store: {}", redacted_url(config.store_url));
  // Before anything is written: a trail that no longer matches audit.head
  // was tampered with while the server was stopped, and the evidence stays.
  auto head = (*db)->checkpoint_audit();
  if (!head && head.error() == store_errc::audit_mismatch)
    return problem{"the audit trail does not match " + (config.data_dir / "audit.head").string() +
                   " (records removed or rewritten): run `valise-server audit verify --data " +
                   config.data_dir.string() +
                   "`; after restoring valise.db from a backup on purpose, move audit.head aside "
                   "and start again"};
  if (!head)
    return problem{"cannot write " + (config.data_dir / "audit.head").string() + ": " +
                   head.error().message()};
  if (head->head_was_missing)
    spdlog::warn(
        "audit.head was missing: checkpoints start again from here; compare the trail "
        "with the journal's earlier checkpoints (valise-server audit verify "
        "--checkpoints FILE)");
  spdlog::info("audit checkpoint: {}", head->line);
  if (!config.business_calendar && !calendar::find_zone("Europe/Paris"))
    spdlog::warn(
        "no time-zone database (/usr/share/zoneinfo): ticket deadlines count in UTC until tzdata "
        "is installed");
  (*db)->set_deadline_rule(calendar_deadline_rule(config.business_calendar));
  if (auto refreshed = (*db)->refresh_deadlines(); !refreshed)
    return problem{"cannot compute the tickets' due dates: " + refreshed.error().message()};
  else
    spdlog::info("ticket deadlines: {} open tickets' due dates computed", *refreshed);
  metrics stats;
  // Before the first purge, whose receipts go out too.
  const auto targets = outbox::configured_targets(config);
  outbox::delivery_worker deliveries(**db, targets, outbox::retry_settings_of(config.outbox));
  (*db)->set_outbox_policy(
      outbox::routing_policy(targets, config.outbox, [&deliveries] { deliveries.wake(); }));
  stats.outbox = &deliveries;
  // Several nodes: the connections beside the store's (leader lock, wakes).
  const bool several_nodes = !store_url.value.empty();
  // What the leader runs once, when it becomes leader (with SQLite: now).
  auto elected = [&] {
    stats.leader.store(true);
    // With SQLite, store::open reconciled already.
    if (several_nodes)
      if (auto r = (*db)->reconcile(reconcile_min_age); !r)
        spdlog::error("reconcile of files failed: {}", r.error().message());
    deliveries.start();
    purge_now(**db, stats, config);  // as well as on the timer
  };
  auto deposed = [&] {
    stats.leader.store(false);
    deliveries.stop();  // what is not delivered yet stays in the outbox
  };
  cluster::leader lead(store_url, {.elected = elected, .deposed = deposed});
  stats.leader.store(false);  // until elected
  lead.start();

  auto tls = tls_contexts::load(tls_settings_of(config));
  if (!tls) return problem{std::move(tls.error())};
  spdlog::info("TLS certificate: {}", (*tls)->describe());
  auto ca = certificate_authority::load(
      {config.resolve(config.ca_certificate), config.resolve(config.ca_key)});
  if (!ca)
    return problem{"cannot load the CA (" + config.resolve(config.ca_certificate).string() + ", " +
                   config.resolve(config.ca_key).string() + "): " + ca.error().message()};
  // Nodes sharing the partial uploads take one PATCH per upload across them.
  auto upload_locks = uploads::open_upload_locks(store_url, why);
  if (!upload_locks) return problem{"cannot open the upload locks' connection: " + why};
  api app(**db, config, stats, *ca, upload_locks->get());
  raise_descriptor_limit(config.max_connections);
  connection_budget budget({.max_connections = config.max_connections,
                            .max_anonymous = config.max_anonymous_connections,
                            .max_per_address = config.max_connections_per_address,
                            .max_per_credential = config.max_connections_per_credential,
                            .max_handshakes = config.max_handshakes});
  const auto trusted_proxies = address_set::parse(config.trusted_proxies).value_or(address_set{});
  if (!app.web().installed())
    spdlog::warn(
        "the web pages are not installed (looked in {}): /console and /drop answer 404 until "
        "they are there, or [web] root names where they are",
        app.web().looked_in());
  connection_context ctx{**tls,
                         app,
                         stats,
                         budget,
                         trusted_proxies,
                         connection_limits{.timeout = config.request_timeout,
                                           .handshake_timeout = config.handshake_timeout}};

  asio::io_context ioc(static_cast<int>(config.threads));
  tcp::acceptor acceptor(ioc);
  boost::system::error_code ec;
  acceptor.open(endpoint->protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(*endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return problem{"cannot listen on " + config.listen + ": " + ec.message()};
  asio::co_spawn(ioc, accept_connections(acceptor, ctx), asio::detached);
  asio::co_spawn(ioc, retention_loop(**db, stats, config, lead), asio::detached);
  asio::co_spawn(ioc, refusal_loop(app, config.refusal_interval), asio::detached);
  asio::co_spawn(ioc, checkpoint_loop(**db, lead), asio::detached);
  asio::co_spawn(ioc, certificate_watch(**tls), asio::detached);
  if (!config.helpdesks.empty())
    asio::co_spawn(ioc, helpdesk_loop(**db, stats, lead), asio::detached);
  if (several_nodes) {
    // Listening before serving: nothing committed once this node answers
    // goes unheard.
    std::string unheard;
    auto listening = cluster::open_listening(store_url.value, wake_channel, unheard);
    if (!listening) return problem{"cannot listen for other nodes' wakes: " + unheard};
    cluster::wake_handlers wake{
        .agent = [&app](const std::string& id) { app.agent_waits().wake(id); },
        .events =
            [&app, &deliveries] {
              app.event_waits().wake_all();
              deliveries.wake();  // an outbox entry another node enqueued, for the leader's worker
            },
        .everything =
            [&app, &deliveries] {
              app.agent_waits().wake_all();
              app.event_waits().wake_all();
              deliveries.wake();
            }};
    asio::co_spawn(
        ioc, cluster::relay_wakes(store_url, wake_channel, std::move(*listening), std::move(wake)),
        asio::detached);
  }
  asio::signal_set hangup(ioc, SIGHUP);
  std::function<void()> on_hangup = [&] {
    hangup.async_wait([&](const boost::system::error_code& failed, int) {
      if (failed) return;
      reload_certificate(**tls, "SIGHUP");
      on_hangup();
    });
  };
  on_hangup();
  asio::signal_set signals(ioc, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int signal) {
    spdlog::info("signal {}: stopping", signal);
    sd_notify(0, "STOPPING=1");
    boost::system::error_code ignored;
    acceptor.close(ignored);
    hangup.cancel(ignored);
    // Interrupted uploads keep the bytes already written; clients resume.
    ioc.stop();
  });

  spdlog::info("valise-server listening on https://{} (data {})", config.listen,
               config.data_dir.string());
  sd_notify(0, "READY=1");
  std::vector<std::thread> workers;
  for (unsigned i = 1; i < config.threads; ++i) workers.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& w : workers) w.join();
  const bool was_leading = lead.leading();
  lead.stop();                                   // hands over at once; stops the deliveries
  deliveries.stop();                             // what is not delivered yet stays in the outbox
  app.flush_refusals(clock::now(), true);        // counted, then recorded
  if (was_leading) checkpoint_now(**db, false);  // after the last records
  spdlog::info("valise-server stopped");
  return {};
}

}  // namespace valise::server
