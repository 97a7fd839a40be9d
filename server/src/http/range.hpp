// The Range request header (RFC 9110), one range of bytes: what a download
// resumes with. Several ranges are answered with the whole file, as allowed.
#pragma once

#include <cstdint>
#include <string_view>

namespace valise::server {

struct byte_range {
  enum kind { whole, part, unsatisfiable } what = whole;
  std::uint64_t first = 0;
  std::uint64_t length = 0;
};

byte_range parse_range(std::string_view header, std::uint64_t size);

}  // namespace valise::server
