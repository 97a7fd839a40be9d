// collect: the same collection as a remote request, run by a local operator
// into a file, for sites that send bundles by hand (valise send, web page).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include "commands/commands.hpp"
#include "service/bundle_maker.hpp"
#include "valise/common/failure.hpp"
#include "valise/common/file_io.hpp"
#include "valise/common/progress.hpp"

namespace valise::agent {
namespace {

using common::check;
using common::fail;

struct collect_options {
  std::string profile, since, until, output, passphrase_out, ticket;
  bool json = false;
};

void run_collect(const agent_config& config, const collect_options& o) {
  const auto found = config.profiles.find(o.profile);
  if (found == config.profiles.end()) {
    std::string names;
    for (const auto& [name, p] : config.profiles) names += (names.empty() ? "" : ", ") + name;
    fail(fmt::format("no profile \"{}\" in {}", o.profile, config.source.string()),
         names.empty() ? "define one under [profiles.NAME]" : "profiles: " + names);
  }
  bundle_request request{.source = found->second, .ticket = o.ticket};
  const auto now = std::chrono::system_clock::now();
  for (auto [text, bound] : {std::pair{&o.since, &request.since}, {&o.until, &request.until}}) {
    if (text->empty()) continue;
    *bound = parse_time_argument(*text, now);
    if (!*bound)
      fail(fmt::format("invalid time \"{}\"", *text),
           "use RFC 3339 (2025-11-22T10:00:00Z) or an age such as 90m, 12h, 3d");
  }
  request.scratch_dir = std::filesystem::path(o.output).parent_path();
  if (request.scratch_dir.empty()) request.scratch_dir = ".";

  // Local operator, local keys: pinned recipients if any, else a passphrase
  // shown here (the notifier is for remote requests).
  delivery_config delivery = config.delivery;
  auto keys = choose_keys(delivery, {});
  if (!keys) fail(keys.error());
  if (!keys->passphrase && !o.passphrase_out.empty())
    fail("--passphrase-out: this agent encrypts to its pinned recipients, not with a passphrase");

  auto output = check(common::atomic_file::create(o.output, {.overwrite = true}), o.output);
  // The total is known only at the end: the bar shows bytes collected and rate.
  common::progress_bar bar("collecting", 0, common::progress_allowed(o.json));
  request.progress = [&bar](std::uint64_t collected) { bar.update(collected); };
  const auto manifest = check(make_bundle(request, *keys, output), o.output);
  bar.finish();
  std::optional<common::atomic_file> passphrase_file;
  if (keys->passphrase && !o.passphrase_out.empty()) {
    passphrase_file.emplace(
        check(common::atomic_file::create(o.passphrase_out, {.overwrite = true, .durable = true}),
              o.passphrase_out));
    const crypto::secret_string line(std::string(keys->passphrase->view()) + "\n");
    check(passphrase_file->write(
              {reinterpret_cast<const std::uint8_t*>(line.view().data()), line.view().size()}),
          o.passphrase_out);
    check(passphrase_file->commit(), o.passphrase_out);
  }
  check(output.commit(), o.output);

  std::uint64_t errors = 0, bytes = 0;
  for (const auto& item : manifest.items) {
    errors += item.error.empty() ? 0 : 1;
    bytes += item.size;
  }
  const bool show_passphrase = keys->passphrase && o.passphrase_out.empty();
  if (o.json) {
    boost::json::object out{{"bundle", o.output},
                            {"bundle_id", manifest.bundle_id},
                            {"profile", o.profile},
                            {"items", manifest.items.size()},
                            {"items_with_errors", errors},
                            {"bytes", bytes},
                            {"redactions", manifest.redactions}};
    if (show_passphrase) out["passphrase"] = keys->passphrase->view();
    std::printf("%s\n", boost::json::serialize(out).c_str());
    return;
  }
  std::printf("collected %zu items (%llu bytes, %llu redactions) into %s, bundle %s\n",
              manifest.items.size(), static_cast<unsigned long long>(bytes),
              static_cast<unsigned long long>(manifest.redactions), o.output.c_str(),
              manifest.bundle_id.c_str());
  for (const auto& item : manifest.items)
    if (!item.error.empty()) std::printf("  %s: %s\n", item.source.c_str(), item.error.c_str());
  if (show_passphrase) {
    std::printf("passphrase: %.*s\n", static_cast<int>(keys->passphrase->view().size()),
                keys->passphrase->view().data());
    std::printf("send it by another channel than the file (SMS, phone); it is not stored\n");
  }
}

}  // namespace

void add_collect_command(CLI::App& app, config_path config) {
  auto o = std::make_shared<collect_options>();
  auto* c = app.add_subcommand("collect", "Collect a profile into an encrypted bundle file, now");
  c->add_option("-p,--profile", o->profile, "profile from the config")->required();
  c->add_option("--since", o->since, "window start: RFC 3339 or an age (12h, 3d)");
  c->add_option("--until", o->until, "window end: RFC 3339 or an age");
  c->add_option("--ticket", o->ticket, "support ticket reference for the manifest");
  c->add_option("-o,--output", o->output, "bundle file to write")->required();
  c->add_option("--passphrase-out", o->passphrase_out,
                "write the generated passphrase to FILE (0600) instead of printing it");
  c->add_flag("--json", o->json, "print a JSON summary");
  c->callback([config, o] { run_collect(load_or_fail(*config), *o); });
}

}  // namespace valise::agent
