#include "keys.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "failure.hpp"
#include "valise/common/file_io.hpp"
#include "valise/common/terminal.hpp"

namespace valise::cli {
namespace {

crypto::secret_string prompt_passphrase(bool confirm) {
  auto first = common::read_secret_from_terminal("Enter passphrase: ");
  if (!first) {
    fail("cannot read a passphrase: no terminal",
         "give keys with -r/-R or -i, or a passphrase with --passphrase-file FILE");
  }
  if (first->empty()) fail("the passphrase is empty", "type a passphrase, or use -r/-i keys");
  if (confirm) {
    auto again =
        check(common::read_secret_from_terminal("Confirm passphrase: "), "reading passphrase");
    if (again.view() != first->view()) fail("the passphrases do not match", "type it again");
  }
  return std::move(*first);
}

template <class Parsed>
Parsed parse_file(const std::string& path, auto parser) {
  auto text = check(common::read_small_file(path), path);
  crypto::secret_string wiped(std::move(text));  // identity files hold private keys
  return check(parser(wiped.view()), path);
}

}  // namespace

void add_recipient_options(CLI::App& command, recipient_options& options) {
  // Repeatable options take one value each, so that they do not swallow the
  // positional arguments that follow (`-i key.txt file.age`).
  command.add_option("-r,--recipient", options.recipients, "encrypt to this age1... public key")
      ->allow_extra_args(false);
  command
      .add_option("-R,--recipients-file", options.recipient_files,
                  "encrypt to the age1... keys listed in this file")
      ->allow_extra_args(false);
  command.add_flag("-p,--passphrase", options.passphrase_prompt,
                   "encrypt with a passphrase typed on the terminal");
  command.add_option("--passphrase-file", options.passphrase_file,
                     "encrypt with the passphrase on the first line of this file");
}

void add_identity_options(CLI::App& command, identity_options& options) {
  command
      .add_option("-i,--identity", options.identity_files,
                  "decrypt with the AGE-SECRET-KEY-1... keys in this file")
      ->allow_extra_args(false);
  command.add_option("--passphrase-file", options.passphrase_file,
                     "decrypt with the passphrase on the first line of this file");
}

crypto::secret_string read_passphrase_file(const std::string& path) {
  auto text = check(common::read_small_file(path, 4096), path);
  // Only the first line counts, without its line ending.
  const auto end = text.find_first_of("\r\n");
  if (end != std::string::npos) {
    crypto::secure_zero(text.data() + end, text.size() - end);
    text.resize(end);
  }
  crypto::secret_string passphrase(std::move(text));
  if (passphrase.empty()) {
    fail(fmt::format("{}: the passphrase file is empty", path),
         "put the passphrase on the first line of the file");
  }
  return passphrase;
}

key_set<crypto::recipient> load_recipients(const recipient_options& options) {
  key_set<crypto::recipient> keys;
  for (const auto& text : options.recipients) {
    auto parsed = check(crypto::x25519_recipient::parse(text), fmt::format("recipient {}", text));
    keys.owned.push_back(std::make_unique<crypto::x25519_recipient>(std::move(parsed)));
  }
  for (const auto& path : options.recipient_files) {
    auto parsed = parse_file<std::vector<crypto::x25519_recipient>>(
        path, [](std::string_view t) { return crypto::parse_recipients_file(t); });
    for (auto& r : parsed) keys.owned.push_back(std::make_unique<crypto::x25519_recipient>(r));
  }
  const bool passphrase = options.passphrase_prompt || !options.passphrase_file.empty();
  if (passphrase && !keys.owned.empty()) {
    fail("a passphrase cannot be combined with -r/-R recipients",
         "use either a passphrase or public keys");
  }
  if (!options.passphrase_file.empty()) {
    keys.owned.push_back(
        std::make_unique<crypto::scrypt_recipient>(read_passphrase_file(options.passphrase_file)));
  } else if (options.passphrase_prompt) {
    keys.owned.push_back(std::make_unique<crypto::scrypt_recipient>(prompt_passphrase(true)));
  }
  keys.uses_passphrase = passphrase;
  return keys;
}

key_set<crypto::identity> load_identities(const identity_options& options) {
  key_set<crypto::identity> keys;
  for (const auto& path : options.identity_files) {
    auto parsed = parse_file<std::vector<crypto::x25519_identity>>(
        path, [](std::string_view t) { return crypto::parse_identity_file(t); });
    for (auto& id : parsed) keys.owned.push_back(std::make_unique<crypto::x25519_identity>(id));
  }
  if (!options.passphrase_file.empty()) {
    keys.owned.push_back(
        std::make_unique<crypto::scrypt_identity>(read_passphrase_file(options.passphrase_file)));
    keys.uses_passphrase = true;
  }
  return keys;
}

crypto::decryptor open_encrypted(crypto::byte_source& in, std::string_view name,
                                 const identity_options& options) {
  auto keys = load_identities(options);
  // With no key option, ask for a passphrase, but only once the header shows
  // the file is passphrase-encrypted: a file for public keys needs -i instead.
  bool prompted = false;
  crypto::decryptor::passphrase_fn ask;
  if (keys.owned.empty()) {
    ask = [&prompted]() -> result<crypto::secret_string> {
      prompted = true;
      return prompt_passphrase(false);
    };
  }
  const auto identities = keys.view();
  auto decryptor = crypto::decryptor::open(in, identities, ask);
  if (decryptor) return std::move(*decryptor);
  if (decryptor.error() == crypto::errc::no_identity_matched) {
    if (keys.uses_passphrase || prompted) {
      fail(fmt::format("{}: wrong passphrase", name),
           "use the passphrase that came with this file by another channel (SMS, phone) and "
           "try again");
    }
    if (keys.owned.empty()) {
      fail(fmt::format("{}: the file is encrypted to public keys, and no identity was given", name),
           "give the matching identity file with -i FILE");
    }
  }
  fail(name, decryptor.error());
}

}  // namespace valise::cli
