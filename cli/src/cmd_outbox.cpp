// valise outbox: the deliveries the server owes systems outside (webhooks,
// helpdesks) that are not made yet or failed for good; `outbox retry ID`
// makes one due now.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "failure.hpp"
#include "server_options.hpp"
#include "table.hpp"
#include "valise/common/terminal.hpp"

namespace valise::cli {
namespace {

struct outbox_options {
  server_options server;
  std::string id;
  bool delivered = false;
};

void run_list(outbox_options& o) {
  api_client api(o.server);
  const auto entries =
      api.call("GET", o.delivered ? "/api/v1/outbox?delivered=1" : "/api/v1/outbox", nullptr, 200,
               "listing the outbox");
  if (o.server.json) return print_json(entries);
  if (elements(entries).empty()) {
    std::printf("no deliveries waiting or failed\n");
    return;
  }
  table out{
      {"DELIVERY", "TARGET", "TICKET", "EVENT", "STATE", "ATTEMPTS", "NEXT", "LAST ERROR"}, {}, {}};
  for (const auto& e : elements(entries))
    out.rows.push_back({field_text(e, "id"), field_text(e, "target"), field_text(e, "ticket"),
                        field_text(e, "event"), field_text(e, "state"), field_text(e, "attempts"),
                        field_text(e, "next_attempt_at"), field_text(e, "last_error")});
  out.print();
}

void run_retry(outbox_options& o) {
  api_client api(o.server);
  const auto e = api.call("POST", "/api/v1/outbox/" + path_segment(o.id) + "/retry", nullptr, 200,
                          fmt::format("delivery {}", terminal_text(o.id)));
  if (o.server.json) return print_json(e);
  std::printf("delivery %s to %s is due now\n", field_text(e, "id").c_str(),
              field_text(e, "target").c_str());
}

}  // namespace

void add_outbox_commands(CLI::App& app) {
  auto options = std::make_shared<outbox_options>();
  auto* group = app.add_subcommand(
      "outbox", "Deliveries to webhooks and helpdesks not made yet or failed: outbox [retry ID]");
  group->require_subcommand(0, 1);
  group->add_flag("--delivered", options->delivered, "also list deliveries made");
  add_server_options(*group, options->server);
  group->callback([group, options] {
    if (group->get_subcommands().empty()) run_list(*options);
  });
  auto* retry = group->add_subcommand("retry", "Attempt a pending or failed delivery now");
  retry->add_option("id", options->id, "delivery id (msg_..., from `valise outbox`)")->required();
  add_server_options(*retry, options->server);
  retry->callback([options] { run_retry(*options); });
}

}  // namespace valise::cli
