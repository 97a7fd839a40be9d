// Names in a bundle are UTF-8: pax requires it of its headers (GNU tar and
// bsdtar then read them without a word, where hdrcharset=BINARY made GNU tar
// warn on every entry) and JSON of the manifest. File names on Linux are
// bytes, so a name that is not UTF-8 is stored with each byte outside a valid
// UTF-8 sequence written as \xNN.
#pragma once

#include <locale.h>

#include <string>
#include <string_view>

namespace valise::common::detail {

bool is_utf8(std::string_view text);
// `text` itself if it is UTF-8, else with the bytes that are not written as
// \xNN (lowercase hex). The result is UTF-8, so escaping twice changes nothing.
std::string utf8_or_escaped(std::string_view text);

// libarchive converts pax names between UTF-8 and the locale's character set:
// for this object's life, this thread's locale is C.UTF-8 whatever the
// process's (the programs never call setlocale, so it is "C", ASCII), so that
// UTF-8 names are written and read exactly.
class utf8_locale_scope {
 public:
  utf8_locale_scope();
  ~utf8_locale_scope();
  utf8_locale_scope(const utf8_locale_scope&) = delete;
  utf8_locale_scope& operator=(const utf8_locale_scope&) = delete;

 private:
  locale_t previous_ = nullptr;
};

}  // namespace valise::common::detail
