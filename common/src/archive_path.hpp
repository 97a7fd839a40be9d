// Archive paths that are safe to write and to extract: relative, no "." or
// ".." components, no empty components, neither the reserved manifest name
// nor under it.
#pragma once

#include <string_view>

namespace valise::common::detail {

bool is_safe_archive_path(std::string_view path);

}  // namespace valise::common::detail
