#include "accounts/credentials.hpp"

#include <sodium.h>

#include <mutex>

namespace valise::server {
namespace {

// INTERACTIVE (64 MiB, 2 passes): a sign-in costs tens of milliseconds and
// 64 MiB while it runs; MODERATE would cost 256 MiB per attempt, which
// anonymous sign-in attempts must not be able to ask of the server.
constexpr auto ops_limit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
constexpr auto mem_limit = crypto_pwhash_MEMLIMIT_INTERACTIVE;

bool ensure_sodium() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

std::size_t code_points(std::string_view text) {
  std::size_t n = 0;
  for (char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

}  // namespace

bool valid_user_name(std::string_view name) {
  if (name.empty() || name.size() > max_user_name_length) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == '@';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::string> password_problem(std::string_view password) {
  if (code_points(password) < min_password_length)
    return "the password is too short: use at least " + std::to_string(min_password_length) +
           " characters";
  if (password.size() > max_password_bytes)
    return "the password is too long: at most " + std::to_string(max_password_bytes) + " bytes";
  return std::nullopt;
}

std::optional<std::string> hash_password(const crypto::secret_string& password) {
  if (!ensure_sodium()) return std::nullopt;
  char out[crypto_pwhash_STRBYTES] = {};
  const auto view = password.view();
  if (crypto_pwhash_str(out, view.data(), view.size(), ops_limit, mem_limit) != 0)
    return std::nullopt;
  return std::string(out);
}

bool verify_password(const std::string& encoded, const crypto::secret_string& password) {
  if (!ensure_sodium()) return false;
  const auto view = password.view();
  return crypto_pwhash_str_verify(encoded.c_str(), view.data(), view.size()) == 0;
}

bool password_needs_rehash(const std::string& encoded) {
  return crypto_pwhash_str_needs_rehash(encoded.c_str(), ops_limit, mem_limit) != 0;
}

void verify_dummy_password(const crypto::secret_string& password) {
  static std::once_flag once;
  static std::string dummy;
  std::call_once(once, [] {
    crypto::secret_string any(std::string("valise-no-such-user"));
    dummy = hash_password(any).value_or(std::string());
  });
  if (!dummy.empty()) (void)verify_password(dummy, password);
}

}  // namespace valise::server
