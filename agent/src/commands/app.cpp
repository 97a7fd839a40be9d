#include "valise/agent/app.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "commands/commands.hpp"
#include "valise/common/failure.hpp"
#include "valise/common/version.hpp"
#include "valise/completion/bash.hpp"

namespace valise::agent {
namespace {

void print_failure(const common::failure& f) {
  std::fprintf(stderr, "valise-agent: %s\n", f.message.c_str());
  if (!f.hint.empty()) std::fprintf(stderr, "valise-agent: hint: %s\n", f.hint.c_str());
}

// Under systemd the journal stamps each line itself; on a terminal, a time helps.
void set_up_logging() {
  auto logger = spdlog::stderr_logger_mt("valise-agent");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern(std::getenv("JOURNAL_STREAM") ? "%l: %v" : "%Y-%m-%d %H:%M:%S %l: %v");
  spdlog::flush_on(spdlog::level::info);
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"valise-agent: collects diagnostics for support tickets, under this site's rules",
               "valise-agent"};
  app.set_version_flag("--version", std::string("valise-agent ") + common::version);
  app.require_subcommand(1);
  auto config = std::make_shared<std::string>("/etc/valise/agent.toml");
  app.add_option("-c,--config", *config, "agent configuration file")->capture_default_str();
  app.fallthrough();

  int status = 0;
  add_enroll_command(app, config);
  add_run_command(app, config, status);
  add_status_command(app, config, status);
  add_collect_command(app, config);
  add_job_commands(app, config);
  completion::add_completion_command(app);

  set_up_logging();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const common::failure& f) {
    print_failure(f);
    return 1;
  } catch (const std::bad_alloc&) {
    print_failure({"out of memory", "lower the profile's caps or free memory"});
    return 1;
  }
  return status;
}

}  // namespace valise::agent
