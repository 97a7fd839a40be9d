// Fuzzes the manifest codec (common/manifest.hpp), which reads manifest.json
// from bundles that anyone may have made: any input is a manifest or
// manifest_invalid, and a manifest that parsed encodes to JSON that parses to
// the same manifest (compared field by field, and as encoded text).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "valise/common/bundle.hpp"
#include "valise/common/manifest.hpp"

namespace {

using namespace valise::common;

void check(bool ok) {
  if (!ok) std::abort();
}

bool same(const manifest_item& a, const manifest_item& b) {
  return a.path == b.path && a.source == b.source && a.size == b.size && a.sha256 == b.sha256 &&
         a.error == b.error && a.truncated == b.truncated && a.redactions == b.redactions &&
         a.redactions_by_rule == b.redactions_by_rule;
}

bool same(const manifest& a, const manifest& b) {
  if (a.format != b.format || a.bundle_id != b.bundle_id || a.ticket != b.ticket ||
      a.host != b.host || a.profile != b.profile || a.created_at != b.created_at ||
      a.since != b.since || a.until != b.until || a.redactions != b.redactions ||
      a.notes != b.notes || a.items.size() != b.items.size())
    return false;
  for (std::size_t i = 0; i < a.items.size(); ++i)
    if (!same(a.items[i], b.items[i])) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parsed = parse_manifest({reinterpret_cast<const char*>(data), size});
  if (!parsed) {
    check(parsed.error() == make_error_code(bundle_errc::manifest_invalid));
    return 0;
  }
  const auto encoded = to_json(*parsed);
  const auto again = parse_manifest(encoded);
  check(again && same(*parsed, *again) && to_json(*again) == encoded);
  return 0;
}
