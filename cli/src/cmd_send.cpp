// valise send: an age file to a ticket with tus, resumably. The upload's URL
// is saved under $XDG_STATE_HOME/valise/uploads/ (never the token), so running
// the same command again after an interruption goes on where the server
// stopped receiving; the end is checked against the server's SHA-256.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "commands.hpp"
#include "failure.hpp"
#include "progress.hpp"
#include "server_options.hpp"
#include "units.hpp"
#include "valise/common/tus_client.hpp"
#include "valise/crypto/secret.hpp"

namespace valise::cli {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

struct send_options {
  server_options server;
  std::string file;
  std::string link;
  std::string ticket;
  std::string limit_rate;
  unsigned retries = 5;
  bool no_resume = false;
  bool quiet = false;
};

// $XDG_STATE_HOME/valise/uploads, else ~/.local/state/valise/uploads.
std::optional<fs::path> resume_dir() {
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg == '/') {
    return fs::path(xdg) / "valise" / "uploads";
  }
  const char* home = std::getenv("HOME");
  if (!home || !*home) return std::nullopt;
  return fs::path(home) / ".local" / "state" / "valise" / "uploads";
}

[[noreturn]] void fail_upload(common::tus_client& client, std::error_code ec,
                              const std::string& what, credential kind, unsigned retries) {
  if (ec.category() == common::tus_category()) {
    fail(fmt::format("{}: {}", what, ec.message()),
         std::string(common::hint(static_cast<common::tus_errc>(ec.value()))));
  }
  if (common::tus::is_transient(ec) && ec.category() == common::http_category()) {
    // The server has what it received: the same command goes on from there.
    fail(fmt::format("{}: {}: {} (gave up after {} retries)", what, client.http().origin(),
                     ec.message(), retries),
         "run the same command again later: it resumes where the upload stopped");
  }
  fail_request(client.http(), ec, what, client.last_error_response(), kind);
}

void print_result(const send_options& o, const common::file_upload_result& r) {
  if (o.server.json) {
    json::object out{{"file", o.file},
                     {"size", r.size},
                     {"bundle_id", r.bundle_id},
                     {"sha256", r.sha256},
                     {"verified", true},
                     {"resumed_from", r.resumed_from},
                     {"started_over", r.started_over},
                     {"upload_url", r.upload_url}};
    if (!o.ticket.empty()) out["ticket"] = o.ticket;
    return print_json(out);
  }
  const std::string to = o.ticket.empty() ? "" : " to ticket " + terminal_text(o.ticket);
  std::printf("sent %s (%s)%s: bundle %s\n", o.file.c_str(), human_size(r.size).c_str(), to.c_str(),
              terminal_text(r.bundle_id).c_str());
  if (r.resumed_from > 0) {
    std::printf("resumed an earlier upload at %s\n", human_size(r.resumed_from).c_str());
  }
  std::printf("SHA-256 %s, verified against the server's\n", r.sha256.c_str());
}

void run_send(send_options& o) {
  const credential kind = o.link.empty() ? credential::technician : credential::upload_link;
  if (kind == credential::technician && o.ticket.empty()) {
    fail("send needs --link TOKEN or --ticket REF",
         "a client uses the upload link the technician gave; a technician names the ticket");
  }
  if (!o.ticket.empty()) check_ticket_ref(o.ticket);
  std::uint64_t rate = 0;
  if (!o.limit_rate.empty()) {
    const auto parsed = parse_size(o.limit_rate);
    if (!parsed || *parsed == 0) {
      fail(fmt::format("--limit-rate {}: not a size", terminal_text(o.limit_rate)),
           "write bytes per second, e.g. 500K or 10M");
    }
    rate = *parsed;
  }
  if (kind == credential::upload_link) {
    o.server.token = std::move(o.link);
    crypto::secure_zero(o.link.data(), o.link.size());
  }
  auto http = connect(o.server);
  common::tus_client client(http, base_url(o.server.server) + "/api/v1/uploads");

  std::optional<common::resume_store> store;
  if (!o.no_resume) {
    if (auto dir = resume_dir()) {
      store.emplace(*dir);
      store->prune(std::chrono::hours(24 * 30));
    }
  }
  std::error_code size_ec;
  const auto size = fs::file_size(o.file, size_ec);
  const bool quiet = o.quiet || o.server.json;
  progress_bar bar("sending", size_ec ? 0 : size, !size_ec && want_progress(quiet, size));
  const std::string what = fmt::format("sending {}", o.file);
  common::file_upload_options options{
      .resume = store ? &*store : nullptr,
      .max_retries = o.retries,
      .rate_limit = rate,
      .on_progress = [&bar](std::uint64_t done, std::uint64_t) { bar.update(done); },
      .on_retry =
          [&](std::error_code ec, unsigned attempt, std::chrono::milliseconds wait) {
            bar.finish();
            std::fprintf(stderr, "valise: %s: %s; retrying in %.0f s (%u of %u)\n", what.c_str(),
                         ec.message().c_str(), std::chrono::duration<double>(wait).count(), attempt,
                         o.retries);
          },
  };
  options.metadata.emplace_back("filename", fs::path(o.file).filename().string());
  if (!o.ticket.empty()) options.metadata.emplace_back("ticket", o.ticket);

  auto sent = common::upload_file(client, o.file, options);
  bar.finish();
  if (!sent) {
    const auto ec = sent.error();
    if (ec.category() != common::http_category() && ec.category() != common::status_category() &&
        ec.category() != common::tus_category()) {
      fail(o.file, ec);  // the local file: missing, unreadable
    }
    fail_upload(client, ec, what, kind, o.retries);
  }
  print_result(o, *sent);
}

}  // namespace

void add_send_command(CLI::App& app) {
  auto options = std::make_shared<send_options>();
  auto* command = app.add_subcommand(
      "send", "Send an age file to a ticket on the server (resumable tus upload)");
  command->add_option("file", options->file, "the encrypted file (from `valise pack`)")->required();
  auto* link = command->add_option("--link", options->link,
                                   "upload link token from the technician (vsl_...)");
  auto* ticket = command->add_option("--ticket", options->ticket,
                                     "ticket reference, with a technician token (--token)");
  add_server_options(*command, options->server);
  link->excludes(ticket);
  if (auto* token = command->get_option_no_throw("--token")) link->excludes(token);
  command->add_option("--limit-rate", options->limit_rate,
                      "at most this many bytes per second: 500K, 10M");
  command->add_option("--retries", options->retries,
                      "attempts after a network failure before giving up (default 5)");
  command->add_flag("--no-resume", options->no_resume,
                    "neither use nor save the resume state under ~/.local/state/valise");
  command->add_flag("-q,--quiet", options->quiet, "no progress bar");
  command->callback([options] { run_send(*options); });
}

}  // namespace valise::cli
