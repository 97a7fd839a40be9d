// Hands a bundle's passphrase to a human by another channel than the bundle:
// the site's notifier command (an SMS gateway script, say) reads it on its
// standard input, with the ticket, job and bundle in its environment; or, if
// the site chose local delivery, a file only the agent's user and root can
// read, removed after passphrase_file_ttl. The passphrase goes nowhere else:
// not to the server, the log, the manifest or the job status.
#pragma once

#include <filesystem>
#include <string>

#include "config/agent_config.hpp"
#include "valise/crypto/secret.hpp"

namespace valise::agent {

struct passphrase_context {
  std::string ticket, job, bundle_id, host, profile;
};

// Whether the config gives a way to deliver passphrases at all.
bool can_deliver_passphrase(const delivery_config& delivery);

// Empty on success, else why the passphrase could not be delivered (never
// containing the passphrase).
std::string deliver_passphrase(const delivery_config& delivery,
                               const std::filesystem::path& state_dir,
                               const crypto::secret_string& passphrase,
                               const passphrase_context& context);

// Removes local passphrase files older than the TTL.
void expire_passphrase_files(const delivery_config& delivery,
                             const std::filesystem::path& state_dir);

std::filesystem::path passphrase_dir(const std::filesystem::path& state_dir);

}  // namespace valise::agent
