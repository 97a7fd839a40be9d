// The server's own certificate authority: `init` creates it and a server
// certificate signed by it; clients trust ca.pem, and the CA signs the client
// certificates agents present (mutual TLS). ECDSA P-256: every TLS client
// supports it.
#pragma once

#include <openssl/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "valise/common/https_client.hpp"
#include "valise/crypto/result.hpp"
#include "valise/server/config.hpp"
#include "valise/server/store.hpp"

namespace valise::server {

struct ca_paths {
  std::filesystem::path certificate;
  std::filesystem::path key;
};

// What the listener's TLS context is built from (http/tls_contexts.hpp):
// [tls] of server.toml, its paths resolved against the data directory.
struct tls_settings;
tls_settings tls_settings_of(const server_config& config);

// A new self-signed CA, valid 10 years. Key file 0600.
result<void> create_ca(const ca_paths& out, const std::string& common_name);

// A server certificate for `hostname` (DNS name or IP address), valid 2 years,
// signed by the CA. "localhost" also covers 127.0.0.1 and ::1.
result<void> create_server_certificate(const ca_paths& ca, const std::string& hostname,
                                       const std::filesystem::path& certificate_out,
                                       const std::filesystem::path& key_out);

// Hex SHA-256 of a certificate's DER: how an agent is recognised, and the
// CA's fingerprint an agent checks before it trusts ca.pem (common's, which
// http/ uses for the peer's certificate without depending on pki).
using common::certificate_sha256;
// The fingerprint of the (first) certificate in a PEM file.
result<std::string> certificate_file_sha256(const std::filesystem::path& pem_file);

// Why a CSR was refused.
enum class csr_errc {
  not_a_csr = 1,    // not one PEM PKCS#10 request
  bad_signature,    // its self-signature does not verify
  unsupported_key,  // not an EC P-256 key
};
const std::error_category& csr_category();
std::error_code make_error_code(csr_errc e);

// The CA at run time: its certificate (served at /api/v1/ca) and key,
// loaded once, signing agents' certificates.
class certificate_authority {
 public:
  static result<certificate_authority> load(const ca_paths& paths);

  const std::string& pem() const { return pem_; }
  const std::string& sha256() const { return sha256_; }

  // Refuses a CSR that is not PEM PKCS#10, whose signature does not verify
  // or whose key is not P-256, so that a bad one costs no token.
  result<void> check_csr(std::string_view csr_pem) const;
  // An agent's certificate for the CSR's key: CN = agent_id (the CSR's own
  // subject is ignored), clientAuth only, valid for `lifetime` (from an
  // hour ago: clock skew), random serial.
  result<issued_certificate> sign_agent(std::string_view csr_pem, const std::string& agent_id,
                                        std::chrono::seconds lifetime) const;

 private:
  std::shared_ptr<X509> cert_;
  std::shared_ptr<EVP_PKEY> key_;
  std::string pem_;
  std::string sha256_;
};

}  // namespace valise::server

template <>
struct std::is_error_code_enum<valise::server::csr_errc> : std::true_type {};
