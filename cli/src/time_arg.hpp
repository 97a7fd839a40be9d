// Times on the command line (--since, --until): an RFC 3339 date-time, or an
// age such as 30m, 2h, 3d meaning that long before now. Sent to the server
// as RFC 3339 UTC.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

namespace valise::cli {

// Fails with a usage message naming `option` if `text` is neither form.
std::string time_argument(std::string_view option, std::string_view text, std::time_t now);

}  // namespace valise::cli
