// What the CA code shares inside the server: owning pointers for OpenSSL
// objects and the certificate builders (pki.cpp), used by the CA that signs
// agents' CSRs (pki_agents.cpp).
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <utility>

#include "pki.hpp"

namespace valise::server {

template <auto fn>
struct openssl_deleter {
  template <class T>
  void operator()(T* p) const {
    fn(p);
  }
};
using key_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<EVP_PKEY_free>>;
using cert_ptr = std::unique_ptr<X509, openssl_deleter<X509_free>>;
using bio_ptr = std::unique_ptr<BIO, openssl_deleter<BIO_free>>;
using csr_ptr = std::unique_ptr<X509_REQ, openssl_deleter<X509_REQ_free>>;

// OpenSSL failed (its own error queue says why; callers say what failed).
std::error_code openssl_error();
std::string bio_text(BIO* bio);

bool add_extension(X509* cert, X509* issuer, int nid, const char* value);
// Version 3, a random positive serial, valid from an hour ago (clock skew)
// for `days`, subject CN = `common_name`; no issuer, extensions or signature.
cert_ptr new_certificate(EVP_PKEY* key, const std::string& common_name,
                         std::chrono::seconds lifetime);
result<std::pair<cert_ptr, key_ptr>> load_ca(const ca_paths& ca);

}  // namespace valise::server
