#include "valise/server/command_line.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>

#include "api/json_views.hpp"
#include "audit_report.hpp"
#include "clock/clock.hpp"
#include "config_location.hpp"
#include "pki.hpp"
#include "status.hpp"
#include "store/copy_database.hpp"
#include "user_command.hpp"
#include "valise/common/version.hpp"
#include "valise/completion/bash.hpp"
#include "valise/server/server.hpp"
#include "valise/server/store.hpp"

namespace valise::server {
namespace {

// Commands other than init, status and config: a store init has made, not an
// empty one created here (init would then refuse the directory).
std::unique_ptr<store> open_store(const server_config& config, const config_location& where) {
  if (auto problem = not_initialised(config, where)) fail(problem->line);
  std::string why;
  auto db = store::open(config.data_dir, config.database(), store::open_mode::tool, &why);
  if (!db) fail("cannot open the store in " + config.data_dir.string() + ": " + why);
  return std::move(*db);
}

std::unique_ptr<store> open_store(const config_location& where) {
  return open_store(load(where), where);
}

// The checkpoint lines of `file` ("-": standard input), e.g. a journal
// export; other lines are skipped. Each line's name goes to `sources`.
void read_checkpoint_lines(const std::string& file, std::vector<std::string>& lines,
                           std::vector<std::string>& sources) {
  std::ifstream stream;
  if (file != "-") {
    stream.open(file);
    if (!stream) fail("cannot read " + file, "give a file of lines copied from the journal");
  }
  std::istream& in = file == "-" ? std::cin : stream;
  std::size_t number = 0, found = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.find("valise-audit-checkpoint") == std::string::npos) continue;
    lines.push_back(line);
    sources.push_back(file + ":" + std::to_string(number));
    ++found;
  }
  if (found == 0)
    fail(file + " holds no valise-audit-checkpoint line",
         "export them with: journalctl -u valise-server -g valise-audit-checkpoint > FILE");
}

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("valise-server");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace

int run_command_line(int argc, char** argv) {
  CLI::App app{"valise-server: the collector of encrypted diagnostics bundles", "valise-server"};
  app.set_version_flag("--version", std::string("valise-server ") + common::version);
  app.require_subcommand(1);

  // One location for whichever subcommand runs: each adds the same options.
  config_location where;
  int exit_code = 0;

  init_options init_opts;
  auto* init_cmd = app.add_subcommand(
      "init", "Fill the data directory: CA, server certificate, database, admin token");
  add_location_options(*init_cmd, where);
  auto* listen_opt =
      init_cmd->add_option("--listen", init_opts.listen, "HOST:PORT to listen on (--data only)")
          ->capture_default_str();
  auto* hostname_opt = init_cmd
                           ->add_option("--hostname", init_opts.hostname,
                                        "Name clients use: certificate, URLs (--data only)")
                           ->capture_default_str();
  auto* recipient_opt = init_cmd->add_option(
      "--recipient", init_opts.recipients,
      "The support team's age public key (age1...), repeatable: [keys] recipients, what browser "
      "drops are encrypted to (--data only)");
  auto* store_opt = init_cmd->add_option(
      "--store", init_opts.store_url,
      "[store] url: a PostgreSQL database (postgresql://USER@HOST/DB) to keep the metadata in "
      "instead of SQLite in the data directory (--data only)");
  init_cmd->callback([&] {
    if (where.data_dir.empty()) {
      // The package's server.toml is a conffile: init fills its data_dir
      // and leaves the file to the administrator.
      init_opts.config_file = where.file();
      if (store_opt->count() > 0)
        fail("--store is for init --data: set [store] url in " + init_opts.config_file.string());
      if (listen_opt->count() + hostname_opt->count() + recipient_opt->count() > 0)
        fail(
            "--listen, --hostname and --recipient are for init --data: set [server] listen, "
            "[server] hostname and [keys] recipients in " +
            init_opts.config_file.string());
    }
    init_opts.data_dir = where.data_dir;
    auto made = init(init_opts);
    if (!made) fail(made.error());
    const auto& dir = made->data_dir;
    std::printf("created %s\n", dir.c_str());
    std::printf("clients trust %s\n", (dir / "ca.pem").c_str());
    if (auto fingerprint = certificate_file_sha256(dir / "ca.pem"))
      std::printf("CA fingerprint (valise-agent enroll --ca-fingerprint): SHA256:%s\n",
                  fingerprint->c_str());
    if (!where.data_dir.empty()) {
      // Tests and scripts take the token from the last line.
      std::printf("start with: valise-server run --data %s\n", dir.c_str());
      std::printf("admin token (shown once, keep it safe):\n%s\n", made->admin_token.c_str());
      return;
    }
    std::printf("admin token (shown once, keep it safe):\n%s\n", made->admin_token.c_str());
    std::printf(
        "next:\n"
        "  systemctl start valise-server\n"
        "  valise-server user add%s --role admin NAME   (a console sign-in; asks for the "
        "password)\n",
        where.arguments().c_str());
  });

  auto* run_cmd = app.add_subcommand("run", "Serve HTTPS until SIGTERM");
  add_location_options(*run_cmd, where);
  run_cmd->callback([&] {
    auto config = load(where);
    if (config.hostname.empty())
      fail("[server] hostname is empty in " + where.file().string(),
           "set it to the name clients use, then run `valise-server init" + where.arguments() +
               "` if it has not run");
    setup_logging(config.log_level);
    if (auto r = run(config); !r) fail(r.error());
  });

  auto* status_cmd = app.add_subcommand(
      "status", "Exit 0 with a summary if the server can run, else 1 with what to do");
  add_location_options(*status_cmd, where);
  status_cmd->callback([&] { exit_code = print_status(where); });

  bool print_defaults = false;
  auto* config_cmd = app.add_subcommand(
      "config", "Print the configuration as read, every setting with its documentation");
  add_location_options(*config_cmd, where);
  config_cmd
      ->add_flag("--default", print_defaults,
                 "Print the server.toml the package installs in /etc/valise instead")
      ->excludes("--config")
      ->excludes("--data");
  config_cmd->callback([&] {
    std::fputs(format_config(print_defaults ? packaged_defaults() : load(where)).c_str(), stdout);
  });

  auto* token_cmd = app.add_subcommand("token", "Manage API tokens");
  token_cmd->require_subcommand(1);
  std::string role_name = "technician", token_name;
  auto* create_cmd = token_cmd->add_subcommand("create", "Create a token; prints only the token");
  add_location_options(*create_cmd, where);
  create_cmd->add_option("--role", role_name, "admin or technician")
      ->capture_default_str()
      ->check(CLI::IsMember({"admin", "technician"}));
  create_cmd->add_option("--name", token_name, "Who holds it (unique)")->required();
  create_cmd->callback([&] {
    auto kind = parse_role(role_name);
    if (!kind) fail("--role must be admin or technician");
    auto db = open_store(where);
    auto token = db->create_token(actor::system(), *kind, token_name);
    if (!token)
      fail("cannot create token \"" + token_name + "\": " + token.error().message(),
           "names are unique among active tokens: pick another or revoke the old one");
    std::printf("%s\n", token->secret.c_str());
  });
  std::string revoke_what;
  auto* revoke_cmd = token_cmd->add_subcommand("revoke", "Revoke a token by id or name");
  add_location_options(*revoke_cmd, where);
  revoke_cmd->add_option("token", revoke_what, "Token id or name")->required();
  revoke_cmd->callback([&] {
    auto db = open_store(where);
    if (auto r = db->revoke_token(actor::system(), revoke_what); !r)
      fail("cannot revoke \"" + revoke_what + "\": " + r.error().message(),
           "list tokens with `valise-server token list" + where.arguments() + "`");
    std::printf("revoked %s\n", revoke_what.c_str());
  });
  auto* list_cmd = token_cmd->add_subcommand("list", "List tokens (never their secrets)");
  add_location_options(*list_cmd, where);
  list_cmd->callback([&] {
    auto db = open_store(where);
    auto tokens = db->list_tokens();
    if (!tokens) fail("cannot list tokens: " + tokens.error().message());
    for (const auto& t : *tokens)
      std::printf("%s  %-10s  %-20s  %s%s\n", t.id.c_str(), std::string(to_string(t.kind)).c_str(),
                  t.name.c_str(), format_rfc3339(t.created_at).c_str(),
                  t.revoked ? "  revoked" : "");
  });

  add_user_command(app, where, [&] { return open_store(where); });

  auto* enroll_cmd = app.add_subcommand("enroll-token", "One-time agent enrollment tokens");
  enroll_cmd->require_subcommand(1);
  std::uint64_t expires_in = 3600;
  auto* enroll_create =
      enroll_cmd->add_subcommand("create", "Create an enrollment token; prints only the token");
  add_location_options(*enroll_create, where);
  enroll_create->add_option("--expires-in", expires_in, "Lifetime in seconds (at most 7 days)")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{7 * 86400}));
  enroll_create->callback([&] {
    auto db = open_store(where);
    auto token =
        db->create_enroll_token(actor::system(), clock::now() + static_cast<unix_time>(expires_in));
    if (!token) fail("cannot create an enrollment token: " + token.error().message());
    std::printf("%s\n", token->secret.c_str());
  });

  auto* fingerprint_cmd = app.add_subcommand(
      "ca-fingerprint", "Print the CA certificate's SHA-256 fingerprint (SHA256:hex)");
  add_location_options(*fingerprint_cmd, where);
  fingerprint_cmd->callback([&] {
    auto config = load(where);
    auto ca = config.resolve(config.ca_certificate);
    auto fingerprint = certificate_file_sha256(ca);
    if (!fingerprint)
      fail("cannot read the CA certificate " + ca.string() + ": " + fingerprint.error().message());
    std::printf("SHA256:%s\n", fingerprint->c_str());
  });

  auto* audit_cmd = app.add_subcommand("audit", "Audit trail");
  audit_cmd->require_subcommand(1);
  auto* verify_cmd = audit_cmd->add_subcommand(
      "verify", "Recompute the audit chain and check it against its checkpoints");
  add_location_options(*verify_cmd, where);
  std::vector<std::string> checkpoint_lines, checkpoint_files;
  verify_cmd->add_option("--checkpoint", checkpoint_lines,
                         "A valise-audit-checkpoint line copied from the server's journal");
  verify_cmd->add_option("--checkpoints", checkpoint_files,
                         "A file of journal lines (- for stdin); lines without a checkpoint are "
                         "skipped");
  verify_cmd->callback([&] {
    auto config = load(where);
    std::vector<std::string> sources{(config.data_dir / "audit.head").string()};
    for (std::size_t i = 0; i < checkpoint_lines.size(); ++i)
      sources.push_back("--checkpoint " + std::to_string(i + 1));
    for (const auto& file : checkpoint_files)
      read_checkpoint_lines(file, checkpoint_lines, sources);
    auto db = open_store(config, where);
    auto report = db->verify_audit(checkpoint_lines);
    if (!report) fail("cannot read the audit trail: " + report.error().message());
    auto findings = describe(*report, sources);
    if (!findings.lines.empty()) {
      std::string all = findings.lines.front();
      for (std::size_t i = 1; i < findings.lines.size(); ++i)
        all += "\nvalise-server: " + findings.lines[i];
      fail(all, findings.hint);
    }
    std::printf("audit chain intact: %lld records; checkpoints that match: %lld\n",
                static_cast<long long>(report->records),
                static_cast<long long>(report->checkpoints));
  });

  auto* migrate_cmd = app.add_subcommand(
      "migrate", "Copy the metadata from SQLite into an empty PostgreSQL database");
  add_location_options(*migrate_cmd, where);
  std::string migrate_from, migrate_to;
  migrate_cmd->add_option("--from", migrate_from,
                          "A data directory (its valise.db) or sqlite:PATH, the server stopped "
                          "(default: the configured data directory's valise.db)");
  migrate_cmd->add_option("--to", migrate_to,
                          "postgresql://USER@HOST/DB: an empty database, no password in it "
                          "(libpq's PGPASSFILE); default: [store] url with its password_file");
  migrate_cmd->callback([&] {
    const bool configured = migrate_from.empty() || migrate_to.empty();
    const server_config config = configured ? load(where) : server_config{};
    if (migrate_from.empty()) migrate_from = config.data_dir.string();
    std::filesystem::path from = std::filesystem::path(migrate_from) / "valise.db";
    if (migrate_from.starts_with("sqlite:")) {
      std::string_view file = std::string_view(migrate_from).substr(7);
      if (file.starts_with("//")) file.remove_prefix(2);  // sqlite:///abs/path
      from = file;
    }
    database_settings to;
    if (migrate_to.empty()) {
      to = config.database();
      if (to.url.empty())
        fail("no target: [store] url is empty",
             "set [store] url (and password_file) in server.toml, or give --to");
    } else {
      // A command line is visible to every user (ps, /proc).
      if (redacted_url(migrate_to) != migrate_to)
        fail("--to carries a password: put the password in [store] password_file",
             "set [store] url and password_file in server.toml and leave --to out");
      to.url = migrate_to;
    }
    if (!to.url.starts_with("postgresql://") && !to.url.starts_with("postgres://"))
      fail("the target must be a postgresql:// URL, not " + redacted_url(to.url));
    std::string why;
    auto copied = copy_database(from, to, why);
    if (!copied) fail(why.empty() ? copied.error().message() : why);
    std::printf("copied %llu rows of %zu tables to %s: set [store] url to it in server.toml\n",
                static_cast<unsigned long long>(copied->rows), copied->tables,
                redacted_url(to.url).c_str());
  });

  completion::add_completion_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const usage_error& e) {
    std::fprintf(stderr, "valise-server: %s\n", e.message.c_str());
    if (!e.hint.empty()) std::fprintf(stderr, "valise-server: hint: %s\n", e.hint.c_str());
    return 1;
  }
  return exit_code;
}

}  // namespace valise::server
