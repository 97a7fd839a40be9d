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
#include "pki.hpp"
#include "user_command.hpp"
#include "valise/completion/bash.hpp"
#include "valise/server/server.hpp"
#include "valise/server/store.hpp"

namespace valise::server {
namespace {

server_config load(const std::filesystem::path& data_dir,
                   const std::filesystem::path& config_file) {
  auto file = config_file.empty() ? data_dir / "server.toml" : config_file;
  auto config = load_config(file);
  if (!config)
    fail(config.error(),
         "create a data directory with `valise-server init --data DIR`, or fix the file");
  if (!data_dir.empty()) config->data_dir = std::filesystem::absolute(data_dir);
  return std::move(*config);
}

std::unique_ptr<store> open_store(const server_config& config) {
  auto db = store::open_sqlite(config.data_dir, store::open_mode::tool);
  if (!db)
    fail("cannot open the store in " + config.data_dir.string() + ": " + db.error().message());
  return std::move(*db);
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
  app.set_version_flag("--version", "valise-server " VALISE_VERSION);
  app.require_subcommand(1);

  std::filesystem::path data_dir, config_file;

  init_options init_opts;
  auto* init_cmd =
      app.add_subcommand("init", "Create a data directory: config, CA, database, admin token");
  init_cmd->add_option("--data", init_opts.data_dir, "Data directory to create")->required();
  init_cmd->add_option("--listen", init_opts.listen, "HOST:PORT to listen on")
      ->capture_default_str();
  init_cmd->add_option("--hostname", init_opts.hostname, "Name clients use (certificate, URLs)")
      ->capture_default_str();
  init_cmd->add_option("--recipient", init_opts.recipients,
                       "The support team's age public key (age1...), repeatable: [keys] "
                       "recipients, what browser drops are encrypted to");
  init_cmd->callback([&] {
    auto token = init(init_opts);
    if (!token) fail(token.error());
    auto dir = std::filesystem::absolute(init_opts.data_dir);
    std::printf("created %s\n", dir.c_str());
    std::printf("clients trust %s\n", (dir / "ca.pem").c_str());
    if (auto fingerprint = certificate_file_sha256(dir / "ca.pem"))
      std::printf("CA fingerprint (valise-agent enroll --ca-fingerprint): SHA256:%s\n",
                  fingerprint->c_str());
    std::printf("start with: valise-server run --data %s\n", dir.c_str());
    std::printf("admin token (shown once, keep it safe):\n%s\n", token->c_str());
  });

  auto* run_cmd = app.add_subcommand("run", "Serve HTTPS until SIGTERM");
  auto* data_opt = run_cmd->add_option("--data", data_dir, "Data directory");
  run_cmd->add_option("--config", config_file, "server.toml (its directory is the data directory)")
      ->excludes(data_opt);
  run_cmd->callback([&] {
    if (data_dir.empty() && config_file.empty()) fail("run needs --data DIR or --config FILE");
    auto config = load(data_dir, config_file);
    setup_logging(config.log_level);
    if (auto r = run(config); !r) fail(r.error());
  });

  auto* token_cmd = app.add_subcommand("token", "Manage API tokens");
  token_cmd->require_subcommand(1);
  std::string role_name = "technician", token_name;
  auto* create_cmd = token_cmd->add_subcommand("create", "Create a token; prints only the token");
  create_cmd->add_option("--data", data_dir, "Data directory")->required();
  create_cmd->add_option("--role", role_name, "admin or technician")->capture_default_str();
  create_cmd->add_option("--name", token_name, "Who holds it (unique)")->required();
  create_cmd->callback([&] {
    auto kind = parse_role(role_name);
    if (!kind) fail("--role must be admin or technician");
    auto db = open_store(load(data_dir, {}));
    auto token = db->create_token(actor::system(), *kind, token_name);
    if (!token)
      fail("cannot create token \"" + token_name + "\": " + token.error().message(),
           "names are unique among active tokens: pick another or revoke the old one");
    std::printf("%s\n", token->secret.c_str());
  });
  std::string revoke_what;
  auto* revoke_cmd = token_cmd->add_subcommand("revoke", "Revoke a token by id or name");
  revoke_cmd->add_option("--data", data_dir, "Data directory")->required();
  revoke_cmd->add_option("token", revoke_what, "Token id or name")->required();
  revoke_cmd->callback([&] {
    auto db = open_store(load(data_dir, {}));
    if (auto r = db->revoke_token(actor::system(), revoke_what); !r)
      fail("cannot revoke \"" + revoke_what + "\": " + r.error().message(),
           "list tokens with `valise-server token list --data DIR`");
    std::printf("revoked %s\n", revoke_what.c_str());
  });
  auto* list_cmd = token_cmd->add_subcommand("list", "List tokens (never their secrets)");
  list_cmd->add_option("--data", data_dir, "Data directory")->required();
  list_cmd->callback([&] {
    auto db = open_store(load(data_dir, {}));
    auto tokens = db->list_tokens();
    if (!tokens) fail("cannot list tokens: " + tokens.error().message());
    for (const auto& t : *tokens)
      std::printf("%s  %-10s  %-20s  %s%s\n", t.id.c_str(), std::string(to_string(t.kind)).c_str(),
                  t.name.c_str(), format_rfc3339(t.created_at).c_str(),
                  t.revoked ? "  revoked" : "");
  });

  add_user_command(app,
                   [&](const std::filesystem::path& dir) { return open_store(load(dir, {})); });

  auto* enroll_cmd = app.add_subcommand("enroll-token", "One-time agent enrollment tokens");
  enroll_cmd->require_subcommand(1);
  std::uint64_t expires_in = 3600;
  auto* enroll_create =
      enroll_cmd->add_subcommand("create", "Create an enrollment token; prints only the token");
  enroll_create->add_option("--data", data_dir, "Data directory")->required();
  enroll_create->add_option("--expires-in", expires_in, "Lifetime in seconds (at most 7 days)")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{7 * 86400}));
  enroll_create->callback([&] {
    auto db = open_store(load(data_dir, {}));
    auto token =
        db->create_enroll_token(actor::system(), static_cast<unix_time>(std::time(nullptr)) +
                                                     static_cast<unix_time>(expires_in));
    if (!token) fail("cannot create an enrollment token: " + token.error().message());
    std::printf("%s\n", token->secret.c_str());
  });

  auto* fingerprint_cmd = app.add_subcommand(
      "ca-fingerprint", "Print the CA certificate's SHA-256 fingerprint (SHA256:hex)");
  fingerprint_cmd->add_option("--data", data_dir, "Data directory")->required();
  fingerprint_cmd->callback([&] {
    auto config = load(data_dir, {});
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
  verify_cmd->add_option("--data", data_dir, "Data directory")->required();
  std::vector<std::string> checkpoint_lines, checkpoint_files;
  verify_cmd->add_option("--checkpoint", checkpoint_lines,
                         "A valise-audit-checkpoint line copied from the server's journal");
  verify_cmd->add_option("--checkpoints", checkpoint_files,
                         "A file of journal lines (- for stdin); lines without a checkpoint are "
                         "skipped");
  verify_cmd->callback([&] {
    auto config = load(data_dir, {});
    std::vector<std::string> sources{(config.data_dir / "audit.head").string()};
    for (std::size_t i = 0; i < checkpoint_lines.size(); ++i)
      sources.push_back("--checkpoint " + std::to_string(i + 1));
    for (const auto& file : checkpoint_files)
      read_checkpoint_lines(file, checkpoint_lines, sources);
    auto db = open_store(config);
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
  return 0;
}

}  // namespace valise::server
