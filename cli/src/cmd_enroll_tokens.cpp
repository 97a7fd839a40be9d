// valise enroll-token create: a one-time, expiring token with which an agent
// enrolls (`valise-agent enroll --token`). Prints only the token, for scripts.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "failure.hpp"
#include "server_options.hpp"
#include "units.hpp"

namespace valise::cli {
namespace {

namespace json = boost::json;

struct enroll_token_options {
  server_options server;
  std::string expires_in;
};

void run_create(enroll_token_options& o) {
  json::object body;
  if (!o.expires_in.empty()) {
    const auto seconds = parse_duration(o.expires_in);
    if (!seconds || *seconds > 7 * 86400) {
      fail(fmt::format("--expires-in {}: not a duration of at most 7 days",
                       terminal_text(o.expires_in)),
           "write it as 90m, 12h or 7d");
    }
    body["expires_in_s"] = *seconds;
  }
  api_client api(o.server);
  const json::value request = body;
  const auto token =
      api.call("POST", "/api/v1/enroll-tokens", &request, 201, "creating an enrollment token");
  if (o.server.json) return print_json(token);
  std::printf("%s\n", field_text(token, "token").c_str());
}

}  // namespace

void add_enroll_token_commands(CLI::App& app) {
  auto* group = app.add_subcommand("enroll-token", "One-time tokens with which agents enroll");
  group->require_subcommand(1);
  auto options = std::make_shared<enroll_token_options>();
  auto* create = group->add_subcommand(
      "create", "Create an enrollment token; prints only the token (valise-agent enroll --token)");
  create->add_option("--expires-in", options->expires_in,
                     "lifetime: 30m, 12h, 7d (default 1h, at most 7d)");
  add_server_options(*create, options->server);
  create->callback([options] { run_create(*options); });
}

}  // namespace valise::cli
