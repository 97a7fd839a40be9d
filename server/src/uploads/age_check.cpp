#include "uploads/age_check.hpp"

#include "tus/tus_headers.hpp"
#include "uploads/refusal.hpp"

namespace valise::server::uploads {

std::size_t age_check::prefix_length() const {
  return tus::age_prefix_length;
}

tus::content_check::verdict age_check::check(std::string_view first_bytes) const {
  switch (tus::check_age_prefix(first_bytes)) {
    case tus::age_prefix::age:
      return verdict::accepted;
    case tus::age_prefix::undecided:
      return verdict::undecided;
    case tus::age_prefix::not_age:
      return verdict::refused;
  }
  return verdict::refused;
}

tus::failure age_check::too_short() const {
  return {.code = refusal::not_age_encrypted, .message = "the file is too small to be an age file"};
}

tus::failure age_check::refused() const {
  return {.code = refusal::not_age_encrypted,
          .message = "the upload does not begin like an age file; it was refused and deleted"};
}

}  // namespace valise::server::uploads
