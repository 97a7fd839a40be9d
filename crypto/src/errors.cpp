// The age error category: one message (what failed) and one hint (what to do)
// per errc value, lowercase and without a trailing period, for "valise: ..." lines.
#include "valise/crypto/age.hpp"

namespace valise::crypto {
namespace {

class age_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "age"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::not_age_file:
        return "not an age-encrypted file";
      case errc::unsupported_version:
        return "unsupported age format version";
      case errc::malformed_header:
        return "the age header is malformed";
      case errc::header_mac_mismatch:
        return "the age header was modified: its MAC does not match";
      case errc::no_identity_matched:
        return "no identity matched: the file is not encrypted to any of the given keys or "
               "passphrases";
      case errc::work_factor_too_large:
        return "the passphrase work factor is too large to try safely";
      case errc::scrypt_not_alone:
        return "a passphrase stanza is mixed with other recipients";
      case errc::payload_truncated:
        return "the file is truncated: the encrypted payload ends early";
      case errc::payload_tampered:
        return "a chunk failed authentication: the file is damaged or was tampered with";
      case errc::trailing_data:
        return "unexpected data after the end of the encrypted payload";
      case errc::armor_invalid:
        return "invalid ASCII armor";
      case errc::invalid_recipient:
        return "invalid recipient: expected an age1... public key";
      case errc::invalid_identity:
        return "invalid identity: expected AGE-SECRET-KEY-1... lines";
      case errc::no_recipients:
        return "no recipients given";
    }
    return "unknown age error";
  }
};

}  // namespace

const std::error_category& age_category() noexcept {
  static const age_error_category category;
  return category;
}

std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), age_category()};
}

std::string_view hint(errc e) noexcept {
  switch (e) {
    case errc::not_age_file:
      return "check that this is the encrypted file (.vls or .age) and that nothing converted it "
             "in transit";
    case errc::unsupported_version:
      return "the file was made by a newer program; upgrade valise";
    case errc::malformed_header:
    case errc::header_mac_mismatch:
    case errc::payload_tampered:
    case errc::trailing_data:
      return "get a fresh copy of the file from its sender; this one was changed after encryption";
    case errc::no_identity_matched:
      return "check that you use the right identity file or passphrase";
    case errc::work_factor_too_large:
      return "if you trust the sender, ask for a file made with the default passphrase settings";
    case errc::scrypt_not_alone:
      return "ask the sender to encrypt the file again, with either a passphrase or public keys";
    case errc::payload_truncated:
      return "the file was cut short (interrupted copy or download); fetch it again";
    case errc::armor_invalid:
      return "the armored text was altered (for example by a mail client); send the file as an "
             "attachment";
    case errc::invalid_recipient:
      return "public keys start with age1; print one with `valise keygen` or `age-keygen -y`";
    case errc::invalid_identity:
      return "use an identity file written by `valise keygen` or `age-keygen`";
    case errc::no_recipients:
      return "give -r age1..., -R FILE or a passphrase";
  }
  return {};
}

}  // namespace valise::crypto
