// valise keygen: a new X25519 identity, in the file format age-keygen writes.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "commands.hpp"
#include "failure.hpp"
#include "valise/common/file_io.hpp"
#include "valise/crypto/age.hpp"

namespace valise::cli {
namespace {

struct keygen_options {
  std::string output;
};

void run_keygen(const keygen_options& options) {
  const auto identity = crypto::x25519_identity::generate();
  const crypto::secret_string text(crypto::format_identity_file(identity));
  const auto recipient = identity.to_recipient().to_string();
  const crypto::bytes content(reinterpret_cast<const std::uint8_t*>(text.view().data()),
                              text.view().size());
  if (options.output.empty()) {
    check(common::stdout_sink().write(content), "writing to standard output");
    std::fprintf(stderr, "Public key: %s\n", recipient.c_str());
    return;
  }
  // Never replace an existing identity: that would lose the key to old files.
  auto file = check(common::atomic_file::create(options.output, {.durable = true}), options.output);
  check(file.write(content), options.output);
  check(file.commit(), options.output);
  std::printf("%s\n", recipient.c_str());
}

}  // namespace

void add_keygen_command(CLI::App& app) {
  auto options = std::make_shared<keygen_options>();
  auto* command =
      app.add_subcommand("keygen", "Generate an identity (private key) compatible with age-keygen");
  command->add_option("-o,--output", options->output,
                      "write the identity to FILE (mode 0600) and print its public key");
  command->callback([options] { run_keygen(*options); });
}

}  // namespace valise::cli
