// What the CA code shares inside the server: names for OpenSSL's owning
// pointers and the certificate builders (pki.cpp), used by the CA that signs
// agents' CSRs (pki_agents.cpp).
#pragma once

#include <string>
#include <utility>

#include "pki.hpp"
#include "valise/common/openssl_ptr.hpp"

namespace valise::server {

using key_ptr = common::pkey_ptr;
using cert_ptr = common::x509_ptr;
using bio_ptr = common::bio_ptr;
using csr_ptr = common::req_ptr;

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
