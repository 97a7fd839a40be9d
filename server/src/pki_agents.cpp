// The CA at run time: fingerprints, and agents' certificates signed from
// their CSRs (the key never leaves the agent's site).
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "pki_openssl.hpp"
#include "store/secrets.hpp"
#include "valise/common/file_io.hpp"
#include "valise/common/https_client.hpp"

namespace valise::server {
namespace {

// Larger than any P-256 CSR; bounds what OpenSSL is asked to parse.
constexpr std::size_t max_csr_bytes = 16 * 1024;

class csr_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "valise.csr"; }
  std::string message(int code) const override {
    switch (static_cast<csr_errc>(code)) {
      case csr_errc::not_a_csr:
        return "not a PEM certificate signing request (PKCS#10)";
      case csr_errc::bad_signature:
        return "the certificate signing request's signature does not verify";
      case csr_errc::unsupported_key:
        return "the certificate signing request's key is not an EC P-256 key";
    }
    return "bad certificate signing request";
  }
};

result<csr_ptr> parse_csr(std::string_view pem) {
  if (pem.empty() || pem.size() > max_csr_bytes) return csr_errc::not_a_csr;
  bio_ptr bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  csr_ptr csr{PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr)};
  if (!csr) return csr_errc::not_a_csr;
  EVP_PKEY* key = X509_REQ_get0_pubkey(csr.get());
  if (!key) return csr_errc::not_a_csr;
  char group[32] = {};
  std::size_t group_length = 0;
  if (!EVP_PKEY_is_a(key, "EC") ||
      EVP_PKEY_get_group_name(key, group, sizeof group, &group_length) != 1 ||
      std::string_view(group, group_length) != "prime256v1")
    return csr_errc::unsupported_key;
  if (X509_REQ_verify(csr.get(), key) != 1) return csr_errc::bad_signature;
  return csr;
}

result<unix_time> not_after(X509* cert) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return openssl_error();
  return static_cast<unix_time>(timegm(&tm));
}

}  // namespace

const std::error_category& csr_category() {
  static const csr_error_category instance;
  return instance;
}

std::error_code make_error_code(csr_errc e) {
  return {static_cast<int>(e), csr_category()};
}

result<std::string> certificate_file_sha256(const std::filesystem::path& pem_file) {
  auto pem = common::read_small_file(pem_file);
  if (!pem) return pem.error();
  auto sha256 = common::certificate_sha256(*pem);  // as the agent pins it
  if (sha256.empty()) return openssl_error();
  return sha256;
}

result<certificate_authority> certificate_authority::load(const ca_paths& paths) {
  auto loaded = load_ca(paths);
  if (!loaded) return loaded.error();
  certificate_authority ca;
  bio_ptr bio{BIO_new(BIO_s_mem())};
  if (!PEM_write_bio_X509(bio.get(), loaded->first.get())) return openssl_error();
  ca.pem_ = bio_text(bio.get());
  ca.sha256_ = certificate_sha256(loaded->first.get());
  ca.cert_ = std::shared_ptr<X509>(loaded->first.release(), X509_free);
  ca.key_ = std::shared_ptr<EVP_PKEY>(loaded->second.release(), EVP_PKEY_free);
  return ca;
}

result<void> certificate_authority::check_csr(std::string_view csr_pem) const {
  auto csr = parse_csr(csr_pem);
  if (!csr) return csr.error();
  return {};
}

result<issued_certificate> certificate_authority::sign_agent(std::string_view csr_pem,
                                                             const std::string& agent_id,
                                                             std::chrono::seconds lifetime) const {
  auto csr = parse_csr(csr_pem);
  if (!csr) return csr.error();
  cert_ptr cert = new_certificate(X509_REQ_get0_pubkey(csr->get()), agent_id, lifetime);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert_.get()));
  // Only what a TLS client certificate needs: no CA, no server use, whatever
  // the CSR asked for.
  if (!add_extension(cert.get(), cert_.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(cert.get(), cert_.get(), NID_key_usage, "critical,digitalSignature") ||
      !add_extension(cert.get(), cert_.get(), NID_ext_key_usage, "clientAuth") ||
      !add_extension(cert.get(), cert_.get(), NID_subject_key_identifier, "hash") ||
      !add_extension(cert.get(), cert_.get(), NID_authority_key_identifier, "keyid:always") ||
      !X509_sign(cert.get(), key_.get(), EVP_sha256()))
    return openssl_error();
  auto expires = not_after(cert.get());
  if (!expires) return expires.error();
  bio_ptr bio{BIO_new(BIO_s_mem())};
  if (!PEM_write_bio_X509(bio.get(), cert.get())) return openssl_error();
  return issued_certificate{bio_text(bio.get()), certificate_sha256(cert.get()), *expires};
}

}  // namespace valise::server
