#include "valise/cli/app.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands.hpp"
#include "failure.hpp"
#include "valise/common/version.hpp"
#include "valise/completion/bash.hpp"

namespace valise::cli {
namespace {

void print_failure(const failure& f) {
  std::fprintf(stderr, "valise: %s\n", f.message.c_str());
  if (!f.hint.empty()) std::fprintf(stderr, "valise: hint: %s\n", f.hint.c_str());
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"valise: encrypted diagnostics bundles for support tickets", "valise"};
  app.set_version_flag("--version", std::string("valise ") + common::version);
  app.require_subcommand(1);
  app.fallthrough();

  add_keygen_command(app);
  add_encrypt_command(app);
  add_decrypt_command(app);
  add_pack_command(app);
  add_open_command(app);
  add_inspect_command(app);
  add_ticket_commands(app);
  add_link_commands(app);
  add_bundle_commands(app);
  add_send_command(app);
  add_enroll_token_commands(app);
  add_agent_commands(app);
  add_request_commands(app);
  add_outbox_commands(app);
  completion::add_completion_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const failure& f) {
    print_failure(f);
    return 1;
  } catch (const std::bad_alloc&) {
    print_failure({"out of memory", "free memory or process fewer files at once"});
    return 1;
  }
  return 0;
}

}  // namespace valise::cli
