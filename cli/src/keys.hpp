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
// The identities given by -i and --passphrase-file (possibly none).
key_set<crypto::identity> load_identities(const identity_options& options);

// Opens an age file with the identity options, reporting failures in the
// user's terms ("wrong passphrase"). Without -i or --passphrase-file it asks
// for a passphrase on the terminal if the file is passphrase-encrypted.
crypto::decryptor open_encrypted(crypto::byte_source& in, std::string_view name,
                                 const identity_options& options);

crypto::secret_string read_passphrase_file(const std::string& path);

}  // namespace valise::cli
