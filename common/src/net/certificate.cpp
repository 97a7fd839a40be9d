// Certificate fingerprints, to pin a server's CA that was fetched unverified
// against the fingerprint an operator typed.
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <climits>

#include "sha256.hpp"
#include "valise/common/ascii.hpp"
#include "valise/common/https_client.hpp"
#include "valise/common/openssl_ptr.hpp"

namespace valise::common {
namespace {

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Removes `prefix` (ASCII, case-insensitive) from the front of `text`.
bool strip_prefix(std::string_view& text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (ascii_lower(text[i]) != prefix[i]) return false;
  }
  text.remove_prefix(prefix.size());
  return true;
}

}  // namespace

std::string certificate_sha256(std::string_view pem) {
  if (pem.size() > INT_MAX) return {};
  const bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return {};
  const x509_ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    ERR_clear_error();  // not to be mistaken later for a TLS failure's reason
    return {};
  }
  return certificate_sha256(cert.get());
}

std::string certificate_sha256(const x509_st* cert) {
  if (!cert) return {};
  unsigned char* der = nullptr;
  const int length = i2d_X509(cert, &der);
  if (length <= 0) {
    ERR_clear_error();
    return {};
  }
  detail::sha256 hash;
  hash.update(std::span<const std::uint8_t>(der, static_cast<std::size_t>(length)));
  OPENSSL_free(der);
  return hash.hex_digest();
}

result<std::string> parse_sha256_fingerprint(std::string_view text) {
  const auto invalid = make_error_code(http_errc::fingerprint_invalid);
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  // openssl x509 -fingerprint prints "sha256 Fingerprint=AB:..."; SSH-style "SHA256:".
  if (!strip_prefix(text, "sha256 fingerprint=")) strip_prefix(text, "sha256:");
  // 32 bytes: 64 digits, or 32 pairs joined by 31 colons.
  const bool colons = text.size() == 95;
  if (!colons && text.size() != 64) return invalid;
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool separator = colons && i % 3 == 2;
    if (separator ? text[i] != ':' : !is_hex(text[i])) return invalid;
    if (!separator) out += ascii_lower(text[i]);
  }
  return out;
}

}  // namespace valise::common
