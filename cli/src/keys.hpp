// Turns the key options every crypto command shares (-r, -R, -i, -p,
// --passphrase-file) into recipients and identities, with user-facing errors.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "valise/crypto/age.hpp"

namespace CLI {
class App;
}

namespace valise::cli {

struct recipient_options {
  std::vector<std::string> recipients;       // -r age1...
  std::vector<std::string> recipient_files;  // -R FILE
  bool passphrase_prompt = false;            // -p
  std::string passphrase_file;               // --passphrase-file FILE
};

struct identity_options {
  std::vector<std::string> identity_files;  // -i FILE
  std::string passphrase_file;              // --passphrase-file FILE
};

void add_recipient_options(CLI::App& command, recipient_options& options);
void add_identity_options(CLI::App& command, identity_options& options);

template <class Key>
struct key_set {
  std::vector<std::unique_ptr<Key>> owned;
  bool uses_passphrase = false;

  std::vector<const Key*> view() const {
    std::vector<const Key*> out;
    for (const auto& key : owned) out.push_back(key.get());
    return out;
  }
};

// Empty set if no recipient option was given (the caller decides the default).
key_set<crypto::recipient> load_recipients(const recipient_options& options);
// Prompts for a passphrase on the terminal if no identity option was given.
key_set<crypto::identity> load_identities(const identity_options& options);

crypto::secret_string read_passphrase_file(const std::string& path);

}  // namespace valise::cli

namespace valise::cli {

// Reports a failure to open an age file in the user's terms: with a passphrase,
// "no identity matched" means the passphrase is wrong.
[[noreturn]] void fail_unlock(std::string_view subject, std::error_code ec,
                              const key_set<crypto::identity>& keys);

}  // namespace valise::cli
