// Uploads are age files: the content check the tus module runs on an
// upload's first bytes, and the smallest size an age file has.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "tus/upload_store.hpp"

namespace valise::server::uploads {

// The smallest age file ("age-encryption.org/v1\n"): shorter uploads are
// refused, and a link's deferred-length upload holds this much of the
// link's budget from its creation (upload_policy::metered_floor), so that a
// link cannot make uploads without end.
inline constexpr std::size_t smallest_age_file = 22;

// What an upload's first bytes must look like.
class age_check final : public tus::content_check {
 public:
  std::size_t min_length() const override { return smallest_age_file; }
  std::size_t prefix_length() const override;
  verdict check(std::string_view first_bytes) const override;
  tus::failure too_short() const override;
  tus::failure refused() const override;
  std::string refusal_reason() const override { return "not an age-encrypted file"; }
};

}  // namespace valise::server::uploads
