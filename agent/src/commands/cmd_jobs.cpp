// jobs, approve, deny: the local operator's say over remote requests,
// through the running agent's control socket.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include "commands/commands.hpp"
#include "service/control_socket.hpp"
#include "valise/common/failure.hpp"

namespace valise::agent {
namespace {

namespace json = boost::json;

json::object ask(const agent_config& config, const json::object& request) {
  const auto line = control_request(config.control_socket, json::serialize(request));
  boost::system::error_code ec;
  auto answer = json::parse(line, ec);
  if (ec || !answer.is_object()) common::fail("the agent's answer is not JSON: " + line);
  const auto& o = answer.get_object();
  if (const auto* e = o.if_contains("error"); e && e->is_string())
    common::fail(std::string(e->get_string()));
  return o;
}

std::string text(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string("-");
}

void print_jobs(const json::object& answer, bool as_json) {
  if (as_json) {
    std::printf("%s\n", json::serialize(answer.at("jobs")).c_str());
    return;
  }
  const auto& jobs = answer.at("jobs").as_array();
  if (jobs.empty()) {
    std::printf("no jobs\n");
    return;
  }
  std::printf("%-28s %-18s %-14s %-18s %s\n", "JOB", "STATE", "TICKET", "PROFILE", "DETAIL");
  for (const auto& j : jobs) {
    const auto& o = j.as_object();
    auto detail = text(o, "error");
    if (detail == "-" || detail.empty()) detail = text(o, "bundle_id");
    std::printf("%-28s %-18s %-14s %-18s %s\n", text(o, "id").c_str(), text(o, "state").c_str(),
                text(o, "ticket").c_str(), text(o, "profile").c_str(), detail.c_str());
  }
}

}  // namespace

void add_job_commands(CLI::App& app, config_path config) {
  auto as_json = std::make_shared<bool>(false);
  auto* jobs = app.add_subcommand("jobs", "List this agent's jobs and their states");
  jobs->add_flag("--json", *as_json, "print JSON");
  jobs->callback([config, as_json] {
    print_jobs(ask(load_or_fail(*config), {{"command", "jobs"}}), *as_json);
  });

  for (const bool approve : {true, false}) {
    auto job = std::make_shared<std::string>();
    auto reason = std::make_shared<std::string>();
    auto* c = app.add_subcommand(
        approve ? "approve" : "deny",
        approve ? "Let a job waiting for approval collect" : "Refuse a job waiting for approval");
    c->add_option("job", *job, "job id (valise-agent jobs)")->required();
    if (!approve) c->add_option("--reason", *reason, "told to the technician");
    c->callback([config, job, reason, approve] {
      ask(load_or_fail(*config),
          {{"command", approve ? "approve" : "deny"}, {"job", *job}, {"reason", *reason}});
      std::printf("job %s %s\n", job->c_str(), approve ? "approved" : "denied");
    });
  }
}

}  // namespace valise::agent
