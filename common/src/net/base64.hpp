// Standard padded base64 (OpenSSL), for header values: tus Upload-Metadata,
// Proxy-Authorization.
#pragma once

#include <openssl/evp.h>

#include <string>
#include <string_view>

namespace valise::common::detail {

inline std::string base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()),
                                static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace valise::common::detail
