// valise link create | list | revoke: upload links, for clients without an
// agent (one ticket, upload only, expiring, with a byte budget).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "failure.hpp"
#include "progress.hpp"
#include "server_options.hpp"
#include "table.hpp"
#include "units.hpp"
#include "valise/crypto/age.hpp"

namespace valise::cli {
namespace {

namespace json = boost::json;

struct link_options {
  server_options server;
  std::string ticket;
  std::string expires_in;
  std::string max_bytes;
  std::vector<std::string> recipients;  // --recipient age1...
  bool passphrase = false;
  std::string id;
};

void run_create(link_options& o) {
  check_ticket_ref(o.ticket);
  json::object body;
  if (!o.expires_in.empty()) {
    const auto seconds = parse_duration(o.expires_in);
    if (!seconds) {
      fail(fmt::format("--expires-in {}: not a duration", terminal_text(o.expires_in)),
           "write it as 90m, 12h or 7d (at most 90 days)");
    }
    body["expires_in_s"] = *seconds;
  }
  if (!o.max_bytes.empty()) {
    const auto bytes = parse_size(o.max_bytes);
    if (!bytes || *bytes == 0) {
      fail(fmt::format("--max-bytes {}: not a size", terminal_text(o.max_bytes)),
           "write it in bytes or with a suffix: 500M, 2G");
    }
    body["max_bytes"] = *bytes;
  }
  if (o.passphrase && !o.recipients.empty())
    fail("--passphrase cannot be combined with --recipient",
         "a link encrypts to public keys or to a passphrase the client's page makes up");
  if (!o.recipients.empty()) {
    json::array keys;
    for (const auto& text : o.recipients) {
      check(crypto::x25519_recipient::parse(text),
            fmt::format("--recipient {}", terminal_text(text)));
      keys.emplace_back(text);
    }
    body["recipients"] = std::move(keys);
  }
  if (o.passphrase) body["mode"] = "passphrase";
  api_client api(o.server);
  const json::value request = body;
  const auto link =
      api.call("POST", "/api/v1/tickets/" + path_segment(o.ticket) + "/links", &request, 201,
               fmt::format("creating an upload link for ticket {}", terminal_text(o.ticket)));
  if (o.server.json) return print_json(link);
  const std::string url = field_text(link, "upload_url");
  const std::string token = field_text(link, "token");
  std::printf("upload link for ticket %s, until %s, up to %s\n", terminal_text(o.ticket).c_str(),
              field_text(link, "expires_at").c_str(),
              human_size(field_size(link, "max_bytes")).c_str());
  std::printf("drop URL: %s\n", field_text(link, "drop_url").c_str());
  std::printf("  (send it to the client: their browser encrypts and uploads the files)\n");
  if (field_text(link, "mode") == "passphrase") {
    std::printf(
        "  the page shows the client a passphrase once: ask them for it by phone or SMS;\n"
        "  it opens the bundle: valise open BUNDLE --passphrase-file FILE\n");
  } else {
    const auto* keys = link.is_object() ? link.as_object().if_contains("recipients") : nullptr;
    std::printf("  encrypted to %zu age key(s)\n", keys ? elements(*keys).size() : 0);
  }
  std::printf("upload URL  %s\n", url.c_str());
  std::printf("token       %s\n", token.c_str());
  std::printf("the client sends an age file with:\n  valise send FILE --server %s --link %s\n",
              url.c_str(), token.c_str());
  std::printf("(or any tus client to the upload URL with Authorization: Bearer TOKEN)\n");
}

void run_list(link_options& o) {
  check_ticket_ref(o.ticket);
  api_client api(o.server);
  const auto links =
      api.call("GET", "/api/v1/tickets/" + path_segment(o.ticket) + "/links", nullptr, 200,
               fmt::format("listing the upload links of ticket {}", terminal_text(o.ticket)));
  if (o.server.json) return print_json(links);
  if (elements(links).empty()) {
    std::printf("no upload links for ticket %s\n", terminal_text(o.ticket).c_str());
    return;
  }
  table out{
      {"LINK", "MODE", "EXPIRES", "USED", "MAX", "REVOKED"}, {false, false, false, true, true}, {}};
  for (const auto& l : elements(links)) {
    out.rows.push_back({field_text(l, "id"), field_text(l, "mode"), field_text(l, "expires_at"),
                        human_size(field_size(l, "used_bytes")),
                        human_size(field_size(l, "max_bytes")), field_text(l, "revoked")});
  }
  out.print();
}

void run_revoke(link_options& o) {
  api_client api(o.server);
  api.call("DELETE", "/api/v1/links/" + path_segment(o.id), nullptr, 204,
           fmt::format("revoking upload link {}", terminal_text(o.id)));
  if (o.server.json) return print_json(json::object{{"revoked", o.id}});
  std::printf("revoked upload link %s\n", terminal_text(o.id).c_str());
}

}  // namespace

void add_link_commands(CLI::App& app) {
  auto* group = app.add_subcommand("link", "Upload links for clients without an agent");
  group->require_subcommand(1);
  auto options = std::make_shared<link_options>();

  auto* create = group->add_subcommand("create", "Create an upload link to a ticket");
  create->add_option("ticket", options->ticket, "ticket reference")->required();
  create->add_option("--expires-in", options->expires_in,
                     "lifetime: 90m, 12h, 7d (default: the server's [links] expires_in)");
  create->add_option("--max-bytes", options->max_bytes,
                     "byte budget for all uploads with it: 500M, 2G (default: the server's)");
  create->add_option("--recipient", options->recipients,
                     "age public key (age1...) the client's files are encrypted to, repeatable "
                     "(default: the server's [keys] recipients)");
  create->add_flag("--passphrase", options->passphrase,
                   "the client's page makes up a passphrase instead, which the client tells you "
                   "by phone or SMS");
  add_server_options(*create, options->server);
  create->callback([options] { run_create(*options); });

  auto* list = group->add_subcommand("list", "List a ticket's upload links (never their tokens)");
  list->add_option("ticket", options->ticket, "ticket reference")->required();
  add_server_options(*list, options->server);
  list->callback([options] { run_list(*options); });

  auto* revoke = group->add_subcommand("revoke", "Revoke an upload link");
  revoke->add_option("id", options->id, "link id (from `valise link list`)")->required();
  add_server_options(*revoke, options->server);
  revoke->callback([options] { run_revoke(*options); });
}

}  // namespace valise::cli
