// The agent's identity on disk, in its state directory: the server's CA
// (ca.pem), its own private key (agent.key, 0600, generated here and never
// sent anywhere) and certificate (agent.crt), and identity.json (agent id and
// server URL). Written at enrollment, replaced at renewal.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "valise/crypto/result.hpp"

namespace valise::agent {

struct credential_files {
  std::filesystem::path ca, key, certificate, identity;
  static credential_files in(const std::filesystem::path& state_dir);
};

struct agent_identity {
  std::string agent_id;
  std::string server;
  std::string enrolled_at;
};

// A fresh P-256 key written to `key_file` (0600, replacing nothing: the file
// must not exist) and a CSR for it in PEM. The server ignores the CSR's
// subject and names the certificate after the agent id.
result<std::string> generate_key_and_csr(const std::filesystem::path& key_file);

struct validity {
  std::chrono::system_clock::time_point not_before, not_after;
};
// The validity period of the first certificate in a PEM text.
std::optional<validity> certificate_validity(const std::string& pem);

// Finishes a renewal cut off between writing the new key and certificate and
// renaming them into place (see renew_if_due), so key and certificate match.
void finish_interrupted_renewal(const credential_files& files);

result<agent_identity> load_identity(const std::filesystem::path& file);
result<void> save_identity(const std::filesystem::path& file, const agent_identity& identity);

// Writes `text` to `path` durably (temporary file, fsync, rename), mode 0600.
result<void> write_private_file(const std::filesystem::path& path, std::string_view text);

}  // namespace valise::agent
