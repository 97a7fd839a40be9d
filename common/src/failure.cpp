#include "valise/common/failure.hpp"

#include <fmt/format.h>

#include "valise/common/ascii.hpp"
#include "valise/common/bundle.hpp"
#include "valise/common/tus_client.hpp"
#include "valise/crypto/age.hpp"

namespace valise::common {

std::string hint_for(std::error_code ec) {
  if (ec.category() == crypto::age_category()) {
    return std::string(crypto::hint(static_cast<crypto::errc>(ec.value())));
  }
  if (ec.category() == common::bundle_category()) {
    return std::string(common::hint(static_cast<common::bundle_errc>(ec.value())));
  }
  if (ec.category() == common::tus_category()) {
    return std::string(common::hint(static_cast<common::tus_errc>(ec.value())));
  }
  if (ec == std::errc::no_space_on_device || ec == std::errc::file_too_large) {
    return "free some disk space or write to another file system, then run the command again";
  }
  if (ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted) {
    return "check the file's permissions, or run as a user who may access it";
  }
  if (ec == std::errc::no_such_file_or_directory) return "check the path";
  if (ec == std::errc::file_exists) return "choose another name or remove the existing one";
  if (ec == std::errc::read_only_file_system) return "write to a writable location";
  return {};
}

void fail(std::string_view subject, std::error_code ec) {
  std::string text = ec.message();
  // Only the C library's messages need it: ours may start with a name.
  if (ec.category() != crypto::age_category() && ec.category() != common::bundle_category() &&
      ec.category() != common::tus_category()) {
    text = lowercase_first(std::move(text));
  }
  fail(fmt::format("{}: {}", subject, text), hint_for(ec));
}

}  // namespace valise::common
