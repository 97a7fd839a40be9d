// STREAM chunk AEAD on OpenSSL EVP. The nonce is an 11-byte big-endian chunk
// counter and a last-chunk flag byte (age.md, "Payload").
#include "chunk_cipher.hpp"

#include <openssl/evp.h>

#include <new>

#include "valise/crypto/secret.hpp"

namespace valise::crypto::detail {

chunk_cipher::chunk_cipher(std::span<const std::uint8_t, 32> key, bool encrypt)
    : ctx_(EVP_CIPHER_CTX_new()) {
  if (!ctx_ || EVP_CipherInit_ex(ctx_, EVP_chacha20_poly1305(), nullptr, key.data(), nullptr,
                                 encrypt ? 1 : 0) != 1) {
    EVP_CIPHER_CTX_free(ctx_);
    throw std::bad_alloc();
  }
}

chunk_cipher::~chunk_cipher() {
  EVP_CIPHER_CTX_free(ctx_);
}

bool chunk_cipher::start_chunk(bool last) {
  std::uint8_t nonce[12] = {};
  for (int i = 0; i < 8; ++i) nonce[10 - i] = static_cast<std::uint8_t>(counter_ >> (8 * i));
  nonce[11] = last ? 1 : 0;
  // The key stays; a new nonce restarts the cipher and the Poly1305 state.
  return EVP_CipherInit_ex(ctx_, nullptr, nullptr, nullptr, nonce, -1) == 1;
}

bool chunk_cipher::seal(std::span<const std::uint8_t> plaintext, bool last, std::uint8_t* out) {
  int len = 0, tail = 0;
  if (!start_chunk(last) ||
      EVP_EncryptUpdate(ctx_, out, &len, plaintext.data(), static_cast<int>(plaintext.size())) !=
          1 ||
      EVP_EncryptFinal_ex(ctx_, out + len, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, tag_size, out + plaintext.size()) != 1) {
    return false;
  }
  ++counter_;
  return true;
}

bool chunk_cipher::open(std::span<const std::uint8_t> sealed, bool last, std::uint8_t* out) {
  if (sealed.size() < tag_size) return false;
  const std::size_t n = sealed.size() - tag_size;
  // OpenSSL takes the expected tag as non-const but only reads it.
  auto* tag = const_cast<std::uint8_t*>(sealed.data() + n);
  int len = 0, tail = 0;
  const bool ok = start_chunk(last) &&
                  EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, tag_size, tag) == 1 &&
                  EVP_DecryptUpdate(ctx_, out, &len, sealed.data(), static_cast<int>(n)) == 1 &&
                  EVP_DecryptFinal_ex(ctx_, out + len, &tail) == 1;
  if (!ok) {
    secure_zero(out, n);  // unauthenticated plaintext never stays in the caller's buffer
    return false;
  }
  ++counter_;
  return true;
}

}  // namespace valise::crypto::detail
