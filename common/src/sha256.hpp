// Incremental SHA-256 (OpenSSL, which uses the CPU's SHA extensions) with a
// hex digest, as the manifest records it.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <span>
#include <string>

namespace valise::common::detail {

class sha256 {
 public:
  sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~sha256() { EVP_MD_CTX_free(ctx_); }
  sha256(const sha256&) = delete;
  sha256& operator=(const sha256&) = delete;

  void update(std::span<const std::uint8_t> data) {
    EVP_DigestUpdate(ctx_, data.data(), data.size());
  }
  std::string hex_digest() {
    unsigned char digest[32];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, digest, &n);
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < n; ++i) {
      out += digits[digest[i] >> 4];
      out += digits[digest[i] & 15];
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

}  // namespace valise::common::detail
