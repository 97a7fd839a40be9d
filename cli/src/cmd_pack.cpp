// valise pack: files -> tar -> zstd -> age -> bundle file, in one streaming pass.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <system_error>

#include "commands.hpp"
#include "failure.hpp"
#include "keys.hpp"
#include "progress.hpp"
#include "valise/common/bundle.hpp"
#include "valise/common/file_io.hpp"

namespace valise::cli {
namespace {

namespace fs = std::filesystem;

struct pack_options {
  std::vector<std::string> paths;
  std::string output;
  recipient_options keys;
  std::string passphrase_out;
  std::string ticket;
  bool json = false;
  bool quiet = false;
};

// Bytes the progress bar will count: regular files under the given paths.
std::uint64_t total_input_size(const std::vector<std::string>& paths) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (const auto& path : paths) {
    if (fs::is_regular_file(path, ec)) {
      total += fs::file_size(path, ec);
      continue;
    }
    for (fs::recursive_directory_iterator
             it(path, fs::directory_options::skip_permission_denied, ec),
         end;
         !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec)) total += it->file_size(ec);
    }
  }
  return total;
}

void print_summary(const pack_options& options, const common::manifest& m,
                   std::uint64_t output_bytes, const crypto::secret_string* passphrase) {
  std::uint64_t files = 0, input_bytes = 0, failed = 0;
  for (const auto& item : m.items) {
    if (!item.sha256.empty()) ++files, input_bytes += item.size;
    if (!item.error.empty()) ++failed;
  }
  if (options.json) {
    boost::json::object out{{"bundle", options.output},
                            {"bundle_id", m.bundle_id},
                            {"files", files},
                            {"input_bytes", input_bytes},
                            {"output_bytes", output_bytes},
                            {"items_with_errors", failed}};
    if (passphrase) out["passphrase"] = passphrase->view();
    std::printf("%s\n", boost::json::serialize(out).c_str());
    return;
  }
  std::printf("packed %llu files (%s) into %s (%s), bundle %s\n",
              static_cast<unsigned long long>(files), human_size(input_bytes).c_str(),
              options.output.c_str(), human_size(output_bytes).c_str(), m.bundle_id.c_str());
  if (failed > 0) {
    std::printf("%llu item(s) not collected in full:\n", static_cast<unsigned long long>(failed));
    for (const auto& item : m.items) {
      if (!item.error.empty()) std::printf("  %s: %s\n", item.source.c_str(), item.error.c_str());
    }
  }
  if (passphrase) {
    std::printf("passphrase: %.*s\n", static_cast<int>(passphrase->view().size()),
                passphrase->view().data());
    std::printf(
        "send the passphrase by another channel than the file (SMS, phone); "
        "it is not stored anywhere\n");
  }
}

void run_pack(const pack_options& options) {
  auto keys = load_recipients(options.keys);
  // With no key given, a fresh passphrase: the ZED-style out-of-band workflow.
  std::optional<crypto::secret_string> generated;
  std::optional<common::atomic_file> passphrase_file;
  if (keys.owned.empty()) {
    generated = crypto::generate_passphrase();
    keys.owned.push_back(std::make_unique<crypto::scrypt_recipient>(
        crypto::secret_string(std::string(generated->view()))));
    if (!options.passphrase_out.empty()) {
      passphrase_file.emplace(check(
          common::atomic_file::create(options.passphrase_out, {.overwrite = true, .durable = true}),
          options.passphrase_out));
      const crypto::secret_string line(std::string(generated->view()) + "\n");
      check(passphrase_file->write(
                {reinterpret_cast<const std::uint8_t*>(line.view().data()), line.view().size()}),
            options.passphrase_out);
    }
  } else if (!options.passphrase_out.empty()) {
    fail("--passphrase-out is only for generated passphrases",
         "drop --passphrase-out, or drop the -r/-R/--passphrase-file options");
  }

  // Sizing the input costs a directory walk: only when a bar may be drawn.
  const bool quiet = options.quiet || options.json;
  const std::uint64_t total = progress_allowed(quiet) ? total_input_size(options.paths) : 0;
  progress_bar bar("packing", total, want_progress(quiet, total));

  auto output =
      check(common::atomic_file::create(options.output, {.overwrite = true}), options.output);
  counting_sink counted(output);
  const auto recipients = keys.view();
  auto encryptor = check(crypto::encryptor::create(recipients, counted), "encrypting");
  auto writer = check(common::bundle_writer::create(
                          encryptor, {.progress = [&bar](std::uint64_t n) { bar.update(n); }}),
                      options.output);
  for (const auto& path : options.paths) {
    const auto archive_path = check(common::archive_path_for(path), path);
    check(writer.add_path(path, archive_path), options.output);
  }
  common::manifest header;
  header.ticket = options.ticket;
  header.host = common::local_host_name();
  const auto manifest = check(writer.finish(std::move(header)), options.output);
  check(encryptor.finish(), options.output);
  bar.finish();
  if (passphrase_file) check(passphrase_file->commit(), options.passphrase_out);
  check(output.commit(), options.output);

  const bool show_passphrase = generated && !passphrase_file;
  print_summary(options, manifest, counted.count(), show_passphrase ? &*generated : nullptr);
}

}  // namespace

void add_pack_command(CLI::App& app) {
  auto options = std::make_shared<pack_options>();
  auto* command = app.add_subcommand(
      "pack", "Pack files and directories into an encrypted bundle (tar + zstd + age)");
  command->add_option("paths", options->paths, "files and directories to pack")->required();
  command->add_option("-o,--output", options->output, "bundle file to write")->required();
  add_recipient_options(*command, options->keys);
  command->add_option("--passphrase-out", options->passphrase_out,
                      "write the generated passphrase to FILE (0600) instead of printing it");
  command->add_option("--ticket", options->ticket, "support ticket reference for the manifest");
  command->add_flag("--json", options->json, "print a JSON summary");
  command->add_flag("-q,--quiet", options->quiet, "no progress bar");
  command->callback([options] { run_pack(*options); });
}

}  // namespace valise::cli
