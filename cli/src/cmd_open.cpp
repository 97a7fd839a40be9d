// valise open / inspect: decrypt a bundle, check every file against its
// manifest, and extract it (open) or show the manifest (inspect).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "commands.hpp"
#include "failure.hpp"
#include "keys.hpp"
#include "progress.hpp"
#include "valise/common/bundle.hpp"
#include "valise/common/file_io.hpp"

namespace valise::cli {
namespace {

struct open_options {
  std::string bundle;
  identity_options keys;
  std::string destination;
  bool check_only = false;
  bool json = false;
  bool quiet = false;
};

// Control characters and non-ASCII bytes as \xNN, so a hostile name cannot
// rewrite the terminal.
std::string printable(std::string_view text) {
  std::string out;
  for (const unsigned char c : text.substr(0, 200)) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

// Decrypts and reads the whole bundle; extracts into `destination` unless empty.
common::manifest read_bundle(const open_options& options, const std::string& destination) {
  auto input = check(common::file_source::open(options.bundle), options.bundle);
  const auto size = input.size().value_or(0);
  progress_bar bar(destination.empty() ? "verifying" : "opening", size,
                   want_progress(options.quiet || options.json, size));
  counting_source counted(input, bar);
  auto decryptor = open_encrypted(counted, options.bundle, options.keys);
  // Name the entry that made the bundle fail; it is untrusted text.
  std::string bad_entry;
  const common::read_options read{
      .progress = {}, .on_bad_entry = [&](std::string_view path) { bad_entry = printable(path); }};
  auto manifest = destination.empty() ? common::verify_bundle(decryptor, read)
                                      : common::extract_bundle(decryptor, destination, read);
  bar.finish();
  if (!manifest && !bad_entry.empty()) {
    fail(fmt::format("{}: entry \"{}\"", options.bundle, bad_entry), manifest.error());
  }
  if (!manifest) fail(options.bundle, manifest.error());
  return std::move(*manifest);
}

void print_manifest(const common::manifest& m) {
  std::uint64_t bytes = 0;
  for (const auto& item : m.items) bytes += item.size;
  std::printf("bundle    %s\n", m.bundle_id.c_str());
  if (!m.ticket.empty()) std::printf("ticket    %s\n", m.ticket.c_str());
  std::printf("host      %s\n", m.host.c_str());
  if (!m.profile.empty()) std::printf("profile   %s\n", m.profile.c_str());
  std::printf("created   %s\n", m.created_at.c_str());
  if (m.since || m.until) {
    std::printf("window    %s .. %s\n", m.since.value_or("").c_str(), m.until.value_or("").c_str());
  }
  std::printf("items     %zu (%s)", m.items.size(), human_size(bytes).c_str());
  if (m.redactions > 0)
    std::printf(", %llu redactions", static_cast<unsigned long long>(m.redactions));
  std::printf("\n\n");
  for (const auto& item : m.items) {
    const auto hash = item.sha256.empty() ? std::string("-") : item.sha256.substr(0, 16);
    std::printf("  %10s  %-16s  %s", human_size(item.size).c_str(), hash.c_str(),
                item.path.c_str());
    if (!item.error.empty()) std::printf("  [%s]", item.error.c_str());
    std::printf("\n");
  }
}

boost::json::value manifest_json(const common::manifest& m) {
  return boost::json::parse(common::to_json(m));
}

void run_open(const open_options& options) {
  if (options.check_only != options.destination.empty()) {
    fail("give either -d DIR to extract or --check to verify only", "see valise open --help");
  }
  const auto manifest = read_bundle(options, options.destination);
  // extract_bundle leaves the collection record at the top of DIR.
  const auto record =
      (std::filesystem::path(options.destination) / common::manifest_entry_name).string();
  if (options.json) {
    boost::json::object out{
        {"bundle", options.bundle}, {"verified", true}, {"manifest", manifest_json(manifest)}};
    if (!options.check_only) {
      out["destination"] = options.destination;
      out["manifest_file"] = record;
    }
    std::printf("%s\n", boost::json::serialize(out).c_str());
    return;
  }
  std::size_t files = 0, failed = 0;
  for (const auto& item : manifest.items) {
    if (!item.sha256.empty()) ++files;
    if (!item.error.empty()) ++failed;
  }
  if (options.check_only) {
    std::printf("%s: verified %zu files against the manifest\n", options.bundle.c_str(), files);
  } else {
    std::printf("%s: verified and extracted %zu files into %s\n", options.bundle.c_str(), files,
                options.destination.c_str());
    std::printf("the collection record (errors, cut files, redactions, window) is in %s\n",
                record.c_str());
  }
  if (failed > 0) {
    std::printf("%zu item(s) were not collected in full when packed; see %s\n", failed,
                options.check_only ? "valise inspect" : record.c_str());
  }
}

void run_inspect(const open_options& options) {
  const auto manifest = read_bundle(options, {});
  if (options.json) {
    std::printf("%s\n", common::to_json(manifest).c_str());
  } else {
    print_manifest(manifest);
  }
}

void add_common_options(CLI::App& command, open_options& options) {
  command.add_option("bundle", options.bundle, "the bundle file")->required();
  add_identity_options(command, options.keys);
  command.add_flag("--json", options.json, "print JSON");
  command.add_flag("-q,--quiet", options.quiet, "no progress bar");
}

}  // namespace

void add_open_command(CLI::App& app) {
  auto options = std::make_shared<open_options>();
  auto* command = app.add_subcommand(
      "open", "Decrypt a bundle, verify every file against its manifest, extract it");
  add_common_options(*command, *options);
  command->add_option("-d,--directory", options->destination,
                      "extract into DIR, which must not exist yet");
  command->add_flag("--check", options->check_only, "verify only, extract nothing");
  command->callback([options] { run_open(*options); });
}

void add_inspect_command(CLI::App& app) {
  auto options = std::make_shared<open_options>();
  auto* command =
      app.add_subcommand("inspect", "Decrypt and verify a bundle, then print its manifest");
  add_common_options(*command, *options);
  command->callback([options] { run_inspect(*options); });
}

}  // namespace valise::cli
