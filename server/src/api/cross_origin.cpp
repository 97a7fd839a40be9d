#include "api/cross_origin.hpp"

#include <algorithm>

namespace valise::server {
namespace {

// What a tus client sends (tus-js-client, Uppy), and what it reads back.
constexpr const char* allow_methods = "POST, PATCH, HEAD, DELETE, OPTIONS";
constexpr const char* allow_headers =
    "Authorization, Content-Type, Tus-Resumable, Upload-Length, Upload-Offset, Upload-Metadata, "
    "Upload-Defer-Length, Upload-Checksum, Upload-Concat, X-HTTP-Method-Override, "
    "X-Requested-With";
constexpr const char* expose_headers =
    "Location, Upload-Offset, Upload-Length, Tus-Version, Tus-Resumable, Tus-Max-Size, "
    "Tus-Extension, Upload-Metadata, Upload-Defer-Length, Upload-Expires, Upload-Concat, "
    "Tus-Checksum-Algorithm, Valise-Bundle-Id, Valise-Bundle-Sha256";
// Browsers cap it (Chromium: 2 hours); a preflight per upload is cheap anyway.
constexpr const char* max_age = "7200";

}  // namespace

cross_origin::cross_origin(const request_head& head, bool taken,
                           const std::vector<std::string>& allowed) {
  if (!taken || allowed.empty()) return;
  varies_ = true;
  const std::string_view origin = head[http::field::origin];
  // Exact comparison: an origin is a serialised string, and browsers send
  // it as load_config requires it written (lowercase, no default port).
  if (std::find(allowed.begin(), allowed.end(), origin) == allowed.end()) return;
  origin_ = origin;
  preflight_ = head.method() == http::verb::options &&
               head.find(http::field::access_control_request_method) != head.end();
}

void cross_origin::apply(http::fields& res) const {
  if (varies_) {
    const std::string_view vary = res[http::field::vary];
    res.set(http::field::vary, vary.empty() ? "Origin" : std::string(vary) + ", Origin");
  }
  if (origin_.empty()) return;
  res.set(http::field::access_control_allow_origin, origin_);
  if (preflight_) {
    res.set(http::field::access_control_allow_methods, allow_methods);
    res.set(http::field::access_control_allow_headers, allow_headers);
    res.set(http::field::access_control_max_age, max_age);
  } else {
    res.set(http::field::access_control_expose_headers, expose_headers);
  }
}

}  // namespace valise::server
