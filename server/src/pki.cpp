#include "pki.hpp"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <memory>

#include "http/tls_contexts.hpp"
#include "pki_openssl.hpp"
#include "valise/common/file_io.hpp"

namespace valise::server {

std::error_code openssl_error() {
  return std::make_error_code(std::errc::protocol_error);
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

bool add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

cert_ptr new_certificate(EVP_PKEY* key, const std::string& common_name,
                         std::chrono::seconds lifetime) {
  cert_ptr cert{X509_new()};
  X509_set_version(cert.get(), X509_VERSION_3);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // tolerate clock skew
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(lifetime.count()));
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  return cert;
}

result<std::pair<cert_ptr, key_ptr>> load_ca(const ca_paths& ca) {
  auto cert_pem = common::read_small_file(ca.certificate);
  if (!cert_pem) return cert_pem.error();
  auto key_pem = common::read_small_file(ca.key);
  if (!key_pem) return key_pem.error();
  bio_ptr cert_bio{BIO_new_mem_buf(cert_pem->data(), static_cast<int>(cert_pem->size()))};
  bio_ptr key_bio{BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size()))};
  cert_ptr cert{PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)};
  key_ptr key{PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr)};
  OPENSSL_cleanse(key_pem->data(), key_pem->size());
  if (!cert || !key) return openssl_error();
  return std::pair{std::move(cert), std::move(key)};
}

namespace {

result<void> write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  auto file = common::atomic_file::create(path, {.overwrite = false, .durable = true});
  if (!file) return file.error();
  auto data = reinterpret_cast<const std::uint8_t*>(text.data());
  if (auto w = file->write({data, text.size()}); !w) return w.error();
  return file->commit();
}

result<void> write_key(const std::filesystem::path& path, EVP_PKEY* key) {
  bio_ptr bio{BIO_new(BIO_s_mem())};
  if (!PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr))
    return openssl_error();
  std::string text = bio_text(bio.get());
  auto r = write_file(path, text);  // atomic_file creates it 0600
  OPENSSL_cleanse(text.data(), text.size());
  return r;
}

result<void> write_certificate(const std::filesystem::path& path, X509* cert) {
  bio_ptr bio{BIO_new(BIO_s_mem())};
  if (!PEM_write_bio_X509(bio.get(), cert)) return openssl_error();
  if (auto r = write_file(path, bio_text(bio.get())); !r) return r;
  // Certificates are public; clients and operators read them.
  ::chmod(path.c_str(), 0644);
  return {};
}

key_ptr new_key() {
  return key_ptr{EVP_EC_gen("P-256")};
}

bool is_ip_address(const std::string& host) {
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(host.c_str());
  if (!ip) return false;
  ASN1_OCTET_STRING_free(ip);
  return true;
}

}  // namespace

result<void> create_ca(const ca_paths& out, const std::string& common_name) {
  key_ptr key = new_key();
  if (!key) return openssl_error();
  cert_ptr cert = new_certificate(key.get(), common_name, std::chrono::days(3650));
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  if (!add_extension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
      !add_extension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !add_extension(cert.get(), cert.get(), NID_subject_key_identifier, "hash") ||
      !X509_sign(cert.get(), key.get(), EVP_sha256()))
    return openssl_error();
  if (auto r = write_key(out.key, key.get()); !r) return r;
  return write_certificate(out.certificate, cert.get());
}

result<void> create_server_certificate(const ca_paths& ca, const std::string& hostname,
                                       const std::filesystem::path& certificate_out,
                                       const std::filesystem::path& key_out) {
  auto loaded = load_ca(ca);
  if (!loaded) return loaded.error();
  auto& [ca_cert, ca_key] = *loaded;
  key_ptr key = new_key();
  if (!key) return openssl_error();
  cert_ptr cert = new_certificate(key.get(), hostname, std::chrono::days(730));
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get()));
  std::string names = (is_ip_address(hostname) ? "IP:" : "DNS:") + hostname;
  if (hostname == "localhost") names += ",IP:127.0.0.1,IP:::1";
  if (!add_extension(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(cert.get(), ca_cert.get(), NID_key_usage,
                     "critical,digitalSignature,keyEncipherment") ||
      !add_extension(cert.get(), ca_cert.get(), NID_ext_key_usage, "serverAuth") ||
      !add_extension(cert.get(), ca_cert.get(), NID_subject_alt_name, names.c_str()) ||
      !add_extension(cert.get(), ca_cert.get(), NID_authority_key_identifier, "keyid:always") ||
      !X509_sign(cert.get(), ca_key.get(), EVP_sha256()))
    return openssl_error();
  if (auto r = write_key(key_out, key.get()); !r) return r;
  return write_certificate(certificate_out, cert.get());
}

tls_settings tls_settings_of(const server_config& config) {
  tls_settings out{.certificate = config.resolve(config.certificate),
                   .private_key = config.resolve(config.private_key),
                   .ca_certificate = config.resolve(config.ca_certificate),
                   .min_version = config.min_tls_version};
  if (!config.own_certificate.empty()) {
    out.own_certificate = config.resolve(config.own_certificate);
    out.own_private_key = config.resolve(config.own_private_key);
  }
  return out;
}

}  // namespace valise::server
