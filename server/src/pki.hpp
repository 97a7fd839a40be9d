// The server's own certificate authority: `init` creates it and a server
// certificate signed by it; clients trust ca.pem (and, in the agent issue, the
// CA signs agent certificates). ECDSA P-256: every TLS client supports it.
#pragma once

#include <filesystem>
#include <string>

#include "valise/crypto/result.hpp"

namespace valise::server {

struct ca_paths {
  std::filesystem::path certificate;
  std::filesystem::path key;
};

// A new self-signed CA, valid 10 years. Key file 0600.
result<void> create_ca(const ca_paths& out, const std::string& common_name);

// A server certificate for `hostname` (DNS name or IP address), valid 2 years,
// signed by the CA. "localhost" also covers 127.0.0.1 and ::1.
result<void> create_server_certificate(const ca_paths& ca, const std::string& hostname,
                                       const std::filesystem::path& certificate_out,
                                       const std::filesystem::path& key_out);

}  // namespace valise::server
