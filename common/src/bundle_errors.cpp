// The bundle error category, its hints, and archive path rules shared by the
// writer and the reader.
#include <string>

#include "archive_path.hpp"
#include "valise/common/bundle.hpp"

namespace valise::common {
namespace {

class bundle_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "bundle"; }
  std::string message(int value) const override {
    switch (static_cast<bundle_errc>(value)) {
      case bundle_errc::not_a_bundle:
        return "not a valise bundle (expected a zstd-compressed tar archive inside)";
      case bundle_errc::manifest_missing:
        return "the bundle has no manifest.json";
      case bundle_errc::manifest_invalid:
        return "the bundle's manifest.json is invalid";
      case bundle_errc::content_mismatch:
        return "a file in the bundle does not match its manifest entry (size or SHA-256)";
      case bundle_errc::unlisted_entry:
        return "the bundle holds a file its manifest does not list";
      case bundle_errc::missing_entry:
        return "a file listed in the manifest is missing from the bundle";
      case bundle_errc::unsafe_path:
        return "the bundle holds an unsafe path (absolute, '..', or reserved)";
      case bundle_errc::unsupported_entry:
        return "the bundle holds a link, device or other special file";
      case bundle_errc::destination_exists:
        return "the destination already exists";
      case bundle_errc::duplicate_path:
        return "the same path was added to the bundle twice";
    }
    return "unknown bundle error";
  }
};

}  // namespace

const std::error_category& bundle_category() noexcept {
  static const bundle_error_category category;
  return category;
}

std::error_code make_error_code(bundle_errc e) noexcept {
  return {static_cast<int>(e), bundle_category()};
}

std::string_view hint(bundle_errc e) noexcept {
  switch (e) {
    case bundle_errc::not_a_bundle:
      return "this is an age file but not a bundle; use `valise decrypt` for plain files";
    case bundle_errc::manifest_missing:
    case bundle_errc::manifest_invalid:
    case bundle_errc::content_mismatch:
    case bundle_errc::unlisted_entry:
    case bundle_errc::missing_entry:
      return "ask the sender for a new bundle; this one was not made completely by valise";
    case bundle_errc::unsafe_path:
    case bundle_errc::unsupported_entry:
      return "do not trust this bundle; nothing was extracted";
    case bundle_errc::destination_exists:
      return "choose a directory that does not exist yet; valise creates it";
    case bundle_errc::duplicate_path:
      return "give each file or directory once";
  }
  return {};
}

namespace detail {

bool is_safe_archive_path(std::string_view path) {
  if (path.empty() || path.size() > 4096 || path.front() == '/') return false;
  // manifest.json is the record, and `open` writes it at the top of DIR: no
  // collected file may be it or be under it.
  if (path.substr(0, path.find('/')) == manifest_entry_name) return false;
  std::size_t start = 0;
  for (;;) {
    const auto slash = path.find('/', start);
    const auto part = path.substr(start, slash == path.npos ? path.npos : slash - start);
    if (part.empty() || part == "." || part == ".." || part.find('\0') != part.npos) return false;
    if (slash == path.npos) return true;
    start = slash + 1;
  }
}

}  // namespace detail

result<std::string> archive_path_for(const std::filesystem::path& source) {
  auto normal = source.lexically_normal();
  std::string text = normal.generic_string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  const bool escapes = text == ".." || text.rfind("../", 0) == 0;
  if (normal.is_absolute() || escapes || text == "." || !detail::is_safe_archive_path(text)) {
    // Absolute (or leaving the current directory, or under the manifest's
    // name): store it like tar, from the root.
    std::error_code ec;
    auto absolute = std::filesystem::absolute(source, ec).lexically_normal().generic_string();
    if (ec) return ec;
    while (absolute.size() > 1 && absolute.back() == '/') absolute.pop_back();
    text = absolute.substr(absolute.find_first_not_of('/') == std::string::npos
                               ? absolute.size()
                               : absolute.find_first_not_of('/'));
    if (text.empty()) text = "root";
  }
  if (!detail::is_safe_archive_path(text)) return make_error_code(bundle_errc::unsafe_path);
  return text;
}

}  // namespace valise::common
