// valise agent list | show | revoke: the agents enrolled on the server. A
// revoked agent is refused at once, whatever it was doing.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "failure.hpp"
#include "server_options.hpp"
#include "table.hpp"

namespace valise::cli {
namespace {

namespace json = boost::json;

struct agent_options {
  server_options server;
  std::string id;
};

std::string agent_path(const std::string& id) {
  return "/api/v1/agents/" + path_segment(id);
}

std::string profiles_text(const json::value& agent) {
  std::string out;
  const auto* listed = agent.is_object() ? agent.as_object().if_contains("profiles") : nullptr;
  if (!listed) return "-";
  for (const auto& p : elements(*listed)) {
    if (!out.empty()) out += ",";
    out += p.is_string() ? terminal_text(p.as_string()) : "?";
  }
  return out.empty() ? "-" : out;
}

void run_list(agent_options& o) {
  api_client api(o.server);
  const json::value agents = api.get_every_page("/api/v1/agents", "listing agents");
  if (o.server.json) return print_json(agents);
  if (elements(agents).empty()) {
    std::printf(
        "no agents (enroll one with `valise enroll-token create` and "
        "`valise-agent enroll`)\n");
    return;
  }
  table out{{"AGENT", "HOSTNAME", "OS", "VERSION", "LAST SEEN", "CERT EXPIRES", "STATE"}, {}, {}};
  for (const auto& a : elements(agents)) {
    out.rows.push_back({field_text(a, "id"), field_text(a, "hostname"), field_text(a, "os"),
                        field_text(a, "version"), field_text(a, "last_seen"),
                        field_text(a, "cert_expires_at"),
                        field_text(a, "revoked") == "yes" ? "revoked" : "active"});
  }
  out.print();
}

void run_show(agent_options& o) {
  api_client api(o.server);
  const auto a =
      api.call("GET", agent_path(o.id), nullptr, 200, fmt::format("agent {}", terminal_text(o.id)));
  if (o.server.json) return print_json(a);
  std::printf("agent         %s\n", field_text(a, "id").c_str());
  std::printf("hostname      %s\n", field_text(a, "hostname").c_str());
  std::printf("os            %s\n", field_text(a, "os").c_str());
  std::printf("kernel        %s\n", field_text(a, "kernel").c_str());
  std::printf("version       %s\n", field_text(a, "version").c_str());
  std::printf("profiles      %s\n", profiles_text(a).c_str());
  std::printf("enrolled      %s\n", field_text(a, "enrolled_at").c_str());
  std::printf("last seen     %s\n", field_text(a, "last_seen").c_str());
  std::printf("cert expires  %s\n", field_text(a, "cert_expires_at").c_str());
  if (field_text(a, "revoked") == "yes")
    std::printf("revoked       %s\n", field_text(a, "revoked_at").c_str());
}

void run_revoke(agent_options& o) {
  api_client api(o.server);
  const auto a = api.call("POST", agent_path(o.id) + "/revoke", nullptr, 200,
                          fmt::format("revoking agent {}", terminal_text(o.id)));
  if (o.server.json) return print_json(a);
  std::printf("revoked agent %s (%s): it is refused from now on; its unfinished requests failed\n",
              field_text(a, "id").c_str(), field_text(a, "hostname").c_str());
}

CLI::App* leaf(CLI::App& group, const char* name, const char* description,
               const std::shared_ptr<agent_options>& options, void (*run)(agent_options&)) {
  auto* command = group.add_subcommand(name, description);
  add_server_options(*command, options->server);
  command->callback([options, run] { run(*options); });
  return command;
}

}  // namespace

void add_agent_commands(CLI::App& app) {
  auto* group = app.add_subcommand("agent", "Agents enrolled on the server");
  group->require_subcommand(1);
  auto options = std::make_shared<agent_options>();
  leaf(*group, "list", "List agents", options, run_list);
  leaf(*group, "show", "Show one agent", options, run_show)
      ->add_option("id", options->id, "agent id (agt_...)")
      ->required();
  leaf(*group, "revoke", "Revoke an agent: it is refused at once, its open requests fail", options,
       run_revoke)
      ->add_option("id", options->id, "agent id (agt_...)")
      ->required();
}

}  // namespace valise::cli
