#include "metrics.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "outbox/delivery_worker.hpp"

namespace valise::server {

std::string metrics::render(const store::totals& stored,
                            const std::array<ticket_counts, 3>& tickets,
                            const outbox_counts& deliveries, const waiting_polls& polls) const {
  std::string out;
  auto counter = [&](const char* name, const char* help, std::uint64_t value) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name, help, value);
  };
  auto gauge = [&](const char* name, const char* help, std::uint64_t value) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", name, help, value);
  };
  counter("valise_uploads_started_total", "Uploads created.", uploads_started.load());
  counter("valise_uploads_completed_total", "Uploads that became bundles.",
          uploads_completed.load());
  counter("valise_uploads_refused_total", "Uploads refused as not age-encrypted.",
          uploads_refused.load());
  counter("valise_upload_bytes_total", "Upload bytes written.", upload_bytes.load());
  counter("valise_purged_bundles_total", "Bundles destroyed by resolution, deletion or retention.",
          purged_bundles.load());
  counter("valise_connections_refused_total",
          "Connections refused because authenticated ones held every place.",
          connections_refused.load());
  counter("valise_connections_shed_total",
          "Unauthenticated connections closed to make room (per-address or anonymous cap).",
          connections_shed.load());
  counter("valise_requests_throttled_total",
          "Requests answered 429 after too many failed authentications from their address.",
          requests_throttled.load());
  auto open = [](const std::atomic<std::int64_t>& n) {
    return static_cast<std::uint64_t>(std::max<std::int64_t>(0, n.load()));
  };
  gauge("valise_connections_anonymous", "Open connections not yet authenticated.",
        open(connections_anonymous));
  gauge("valise_connections_authenticated",
        "Open connections of agents (certificate) and token holders.",
        open(connections_authenticated));
  gauge("valise_leader",
        "1 if this node runs retention, helpdesk resolutions, outbox deliveries and audit "
        "checkpoints (the cluster's leader; always with SQLite), else 0.",
        leader.load() ? 1 : 0);
  gauge("valise_job_polls_waiting",
        "Agents' job long-polls on this node waiting for a request (or their wait's end).",
        polls.jobs);
  gauge("valise_event_polls_waiting",
        "Event long-polls on this node waiting for an audit record (or their wait's end).",
        polls.events);
  gauge("valise_bundles_stored", "Bundles stored now.", stored.bundles);
  gauge("valise_bundle_bytes_stored", "Bytes of bundles stored now.", stored.bundle_bytes);
  auto by_severity = [&](const char* name, const char* help, auto value) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n", name, help);
    for (auto s : {severity::blocking, severity::semi_blocking, severity::non_blocking})
      out += fmt::format("{}{{severity=\"{}\"}} {}\n", name, to_string(s),
                         value(tickets[static_cast<std::size_t>(s)]));
  };
  by_severity("valise_tickets_open", "Open tickets, by severity.",
              [](const ticket_counts& c) { return c.open; });
  by_severity("valise_tickets_overdue",
              "Open tickets past their resolution due date (not pending), by severity.",
              [](const ticket_counts& c) { return c.overdue; });

  counter("valise_outbox_delivered_total", "Outbox deliveries made since the server started.",
          outbox ? outbox->delivered() : 0);
  counter("valise_outbox_given_up_total",
          "Outbox deliveries that failed for good since the server started.",
          outbox ? outbox->given_up() : 0);
  for (const auto* kind : {"pending", "failed"}) {
    const bool pending = kind[0] == 'p';
    out += fmt::format(
        "# HELP valise_outbox_{0} Outbox deliveries {1}, by target.\n"
        "# TYPE valise_outbox_{0} gauge\n",
        kind, pending ? "waiting for their next attempt" : "failed for good (retry them by hand)");
    for (const auto& [target, n] : deliveries.targets)
      out += fmt::format("valise_outbox_{}{{target=\"{}\"}} {}\n", kind, target,
                         pending ? n.pending : n.failed);
  }

  out +=
      "# HELP valise_http_requests_total Requests answered, by status class.\n"
      "# TYPE valise_http_requests_total counter\n";
  for (std::size_t c = 0; c < by_class_.size(); ++c)
    out +=
        fmt::format("valise_http_requests_total{{code=\"{}xx\"}} {}\n", c + 1, by_class_[c].load());

  out +=
      "# HELP valise_http_request_duration_seconds Time from request head to response sent.\n"
      "# TYPE valise_http_request_duration_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += buckets_[i].load();
    out += fmt::format("valise_http_request_duration_seconds_bucket{{le=\"{}\"}} {}\n", bounds_[i],
                       cumulative);
  }
  cumulative += buckets_.back().load();
  out += fmt::format("valise_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  out += fmt::format("valise_http_request_duration_seconds_sum {}\n",
                     static_cast<double>(duration_micros_.load()) / 1e6);
  out += fmt::format("valise_http_request_duration_seconds_count {}\n", cumulative);
  return out;
}

}  // namespace valise::server
