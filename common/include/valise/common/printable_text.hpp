// Text from elsewhere (a local operator, a failing program, an older agent)
// made fit to store, send as JSON and show on a terminal.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace valise::common {

// Pure: `text` as valid UTF-8 without control characters, at most `max_bytes`
// long, cut only between characters. Tab, CR and LF become a space; any
// other C0 control, DEL, C1 control (U+0080-U+009F) and every byte that is
// not part of valid UTF-8 becomes `\xNN` (the byte in lower-case hex), so
// that it stays visible without acting on a terminal.
std::string printable_text(std::string_view text, std::size_t max_bytes);

}  // namespace valise::common
