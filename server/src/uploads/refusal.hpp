// The upload policy's reasons to refuse, as an error category of their own:
// the tus module passes them on unread, the API maps them to its errors.
#pragma once

#include <system_error>

namespace valise::server::uploads {

enum class refusal {
  bad_request = 1,
  no_recipients,
  request_finished,
  request_has_bundle,
  quota_exceeded,
  ticket_not_found,
  not_age_encrypted,
};
const std::error_category& refusal_category();
std::error_code make_error_code(refusal r);

}  // namespace valise::server::uploads

template <>
struct std::is_error_code_enum<valise::server::uploads::refusal> : std::true_type {};
