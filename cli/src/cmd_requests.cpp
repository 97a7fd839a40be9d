// valise request TICKET --agent ID --profile NAME: ask an agent for
// diagnostics on a ticket (the agent's own config decides what the profile
// collects); `request list | show` follow what became of requests.
//
// `request TICKET ...` and `request create TICKET ...` are the same command;
// the second form is for a ticket named like a subcommand (list, show, create).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <thread>

#include "commands.hpp"
#include "failure.hpp"
#include "server_options.hpp"
#include "table.hpp"
#include "time_arg.hpp"
#include "valise/common/terminal.hpp"

namespace valise::cli {
namespace {

namespace json = boost::json;

struct request_options {
  server_options server;
  std::string ticket;
  std::string agent;
  std::string profile;
  std::string since;
  std::string until;
  std::vector<std::string> recipients;
  std::string state;
  std::string id;
  bool wait = false;
};

std::string request_path(const std::string& id) {
  return "/api/v1/requests/" + path_segment(id);
}

bool finished(const std::string& state) {
  return state == "done" || state == "failed";
}

// Polls until the request is done or failed, telling a terminal each state.
json::value follow(api_client& api, const std::string& id, bool json_output) {
  const bool quiet = json_output || !common::is_terminal(2);
  std::string last;
  auto pause = std::chrono::milliseconds(500);
  for (;;) {
    auto r = api.call("GET", request_path(id), nullptr, 200,
                      fmt::format("following request {}", terminal_text(id)));
    const std::string state = field_text(r, "state");
    if (state != last && !quiet)
      std::fprintf(stderr, "request %s: %s\n", id.c_str(), state.c_str());
    last = state;
    if (finished(state)) return r;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(5000));
  }
}

void run_create(request_options& o) {
  check_ticket_ref(o.ticket);
  if (o.agent.empty() || o.profile.empty()) {
    fail("a request needs --agent ID and --profile NAME",
         "list agents and the profiles they allow with `valise agent list` / `valise agent show "
         "ID`");
  }
  const std::time_t now = std::time(nullptr);
  json::object body{{"agent", o.agent}, {"profile", o.profile}};
  if (!o.since.empty()) body["since"] = time_argument("--since", o.since, now);
  if (!o.until.empty()) body["until"] = time_argument("--until", o.until, now);
  if (!o.recipients.empty()) {
    json::array keys;
    for (const auto& k : o.recipients) keys.emplace_back(k);
    body["recipients"] = std::move(keys);
  }
  api_client api(o.server);
  const json::value request = body;
  auto created = api.call(
      "POST", "/api/v1/tickets/" + path_segment(o.ticket) + "/requests", &request, 201,
      fmt::format("requesting profile {} from agent {} for ticket {}", terminal_text(o.profile),
                  terminal_text(o.agent), terminal_text(o.ticket)));
  const std::string id = field_text(created, "id");
  if (!o.wait) {
    if (o.server.json) return print_json(created);
    std::printf("%s\n", id.c_str());
    return;
  }
  const auto result = follow(api, id, o.server.json);
  if (o.server.json) {
    print_json(result);
  } else if (field_text(result, "state") == "done") {
    std::printf("%s\n", field_text(result, "bundle_id").c_str());
  }
  if (field_text(result, "state") == "failed") {
    fail(fmt::format("request {} failed: {}", id, field_text(result, "error")),
         "see `valise request show " + id + "`; the agent's log says more");
  }
}

void run_list(request_options& o) {
  std::string path;
  if (!o.ticket.empty()) {
    check_ticket_ref(o.ticket);
    path = "/api/v1/tickets/" + path_segment(o.ticket) + "/requests";
  } else {
    path = "/api/v1/requests";
    std::string query;
    if (!o.agent.empty()) query += "agent=" + path_segment(o.agent);
    if (!o.state.empty()) query += (query.empty() ? "" : "&") + ("state=" + path_segment(o.state));
    if (!query.empty()) path += "?" + query;
  }
  api_client api(o.server);
  const auto requests = api.call("GET", path, nullptr, 200, "listing requests");
  if (o.server.json) return print_json(requests);
  if (elements(requests).empty()) {
    std::printf("no requests\n");
    return;
  }
  table out{
      {"REQUEST", "TICKET", "AGENT", "PROFILE", "STATE", "UPDATED", "BUNDLE / ERROR"}, {}, {}};
  for (const auto& r : elements(requests)) {
    const std::string outcome =
        field_text(r, "state") == "failed" ? field_text(r, "error") : field_text(r, "bundle_id");
    out.rows.push_back({field_text(r, "id"), field_text(r, "ticket"), field_text(r, "agent"),
                        field_text(r, "profile"), field_text(r, "state"),
                        field_text(r, "updated_at"), outcome});
  }
  out.print();
}

void run_show(request_options& o) {
  api_client api(o.server);
  const auto r = api.call("GET", request_path(o.id), nullptr, 200,
                          fmt::format("request {}", terminal_text(o.id)));
  if (o.server.json) return print_json(r);
  std::printf("request   %s\n", field_text(r, "id").c_str());
  std::printf("ticket    %s\n", field_text(r, "ticket").c_str());
  std::printf("agent     %s\n", field_text(r, "agent").c_str());
  std::printf("profile   %s\n", field_text(r, "profile").c_str());
  std::printf("since     %s\n", field_text(r, "since").c_str());
  std::printf("until     %s\n", field_text(r, "until").c_str());
  std::printf("state     %s\n", field_text(r, "state").c_str());
  if (field_text(r, "bundle_id") != "-")
    std::printf("bundle    %s\n", field_text(r, "bundle_id").c_str());
  if (field_text(r, "error") != "-") std::printf("error     %s\n", field_text(r, "error").c_str());
  std::printf("created   %s\n", field_text(r, "created_at").c_str());
  std::printf("updated   %s\n", field_text(r, "updated_at").c_str());
}

// The options of a new request, on `request` itself and on `request create`.
void add_create_options(CLI::App& command, request_options& o) {
  command.add_option("--agent", o.agent, "agent id (agt_..., from `valise agent list`)");
  command.add_option("--profile", o.profile, "profile name, as the agent's config defines it");
  command.add_option("--since", o.since, "start of the window: RFC 3339, or an age (2h, 3d)");
  command.add_option("--until", o.until, "end of the window: RFC 3339, or an age");
  command.add_option("--recipient", o.recipients,
                     "age1... key to encrypt to, among the agent's pinned ones (repeatable)");
  command.add_flag("--wait", o.wait,
                   "follow the request until done (prints the bundle id) or failed (exit 1)");
  add_server_options(command, o.server);
}

}  // namespace

void add_request_commands(CLI::App& app) {
  auto options = std::make_shared<request_options>();
  auto* group = app.add_subcommand(
      "request", "Ask an agent for diagnostics: request TICKET --agent ID --profile NAME");
  group->require_subcommand(0, 1);
  group->add_option("ticket", options->ticket, "ticket reference");
  add_create_options(*group, *options);
  group->callback([group, options] {
    if (!group->get_subcommands().empty()) return;  // list, show or create ran
    if (options->ticket.empty()) {
      fail("request needs a ticket",
           "valise request TICKET --agent ID --profile NAME, or valise request list|show");
    }
    run_create(*options);
  });

  auto* create = group->add_subcommand(
      "create", "Same as `request TICKET ...` (for a ticket named list, show or create)");
  create->add_option("ticket", options->ticket, "ticket reference")->required();
  add_create_options(*create, *options);
  create->callback([options] { run_create(*options); });

  auto* list = group->add_subcommand("list", "List requests: a ticket's, or every agent's");
  list->add_option("ticket", options->ticket, "only this ticket's");
  list->add_option("--agent", options->agent, "only this agent's (without TICKET)");
  list->add_option("--state", options->state, "only in this state (without TICKET)")
      ->check(CLI::IsMember(
          {"queued", "awaiting_approval", "collecting", "uploading", "done", "failed"}));
  add_server_options(*list, options->server);
  list->callback([options] { run_list(*options); });

  auto* show = group->add_subcommand("show", "Show one request");
  show->add_option("id", options->id, "request id (req_...)")->required();
  add_server_options(*show, options->server);
  show->callback([options] { run_show(*options); });
}

}  // namespace valise::cli
