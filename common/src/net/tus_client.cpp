// The tus client's requests, its error category and the pure header helpers.
#include "valise/common/tus_client.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <cmath>

#include "net/base64.hpp"
#include "sha256.hpp"

namespace valise::common {
namespace {

class tus_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tus"; }
  std::string message(int value) const override {
    switch (static_cast<tus_errc>(value)) {
      case tus_errc::bad_response:
        return "the server's answer lacks the tus headers it must carry";
      case tus_errc::not_age_file:
        return "not an age-encrypted file";
      case tus_errc::file_changed:
        return "the file changed while it was being sent";
      case tus_errc::checksum_mismatch:
        return "the server stored different bytes than the file's (SHA-256 mismatch)";
    }
    return "unknown tus error";
  }
};

std::vector<http_header> tus_headers() {
  return {{"Tus-Resumable", std::string(tus::version)}};
}

}  // namespace

const std::error_category& tus_category() noexcept {
  static const tus_error_category category;
  return category;
}

std::error_code make_error_code(tus_errc e) noexcept {
  return {static_cast<int>(e), tus_category()};
}

std::string_view hint(tus_errc e) noexcept {
  switch (e) {
    case tus_errc::bad_response:
      return "check that --server names a valise-server";
    case tus_errc::not_age_file:
      return "encrypt it first: `valise pack` for files and directories, `valise encrypt` for one "
             "file";
    case tus_errc::file_changed:
      return "send a file that nothing is writing to, e.g. a copy";
    case tus_errc::checksum_mismatch:
      return "send the file again; if it happens again, tell the server's operator";
  }
  return {};
}

namespace tus {

std::string encode_metadata(const metadata& m) {
  std::string out;
  for (const auto& [key, value] : m) {
    if (!out.empty()) out += ',';
    out += key;
    out += ' ';
    out += detail::base64(value);
  }
  return out;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;  // 19 digits fit in 64 bits
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

result<upload_state> parse_upload_state(const http_response& response) {
  const auto bad = make_error_code(tus_errc::bad_response);
  upload_state out;
  const auto offset = response.header("Upload-Offset");
  if (!offset) return bad;
  const auto parsed = parse_size(*offset);
  if (!parsed) return bad;
  out.offset = *parsed;
  if (const auto length = response.header("Upload-Length")) {
    out.length = parse_size(*length);
    if (!out.length || out.offset > *out.length) return bad;
  }
  if (const auto id = response.header("Valise-Bundle-Id")) out.bundle_id = std::string(*id);
  if (const auto sha = response.header("Valise-Bundle-Sha256")) {
    out.bundle_sha256 = std::string(*sha);
  }
  return out;
}

result<std::string> resolve_location(std::string_view endpoint, std::string_view location) {
  const auto base = boost::urls::parse_absolute_uri(endpoint);
  const auto reference = boost::urls::parse_uri_reference(location);
  if (!base || !reference || location.empty()) return make_error_code(tus_errc::bad_response);
  boost::urls::url out;
  if (!boost::urls::resolve(*base, *reference, out)) {
    return make_error_code(tus_errc::bad_response);
  }
  return std::string(out.buffer());
}

std::string resume_key(const upload_identity& id) {
  // Each field is length-prefixed so that no two identities hash alike.
  detail::sha256 hash;
  const auto add = [&hash](std::string_view field) {
    const std::string length = std::to_string(field.size()) + ":";
    hash.update({reinterpret_cast<const std::uint8_t*>(length.data()), length.size()});
    hash.update({reinterpret_cast<const std::uint8_t*>(field.data()), field.size()});
  };
  add("valise-tus-resume-v1");
  add(id.endpoint);
  add(id.path);
  add(std::to_string(id.size));
  add(std::to_string(id.mtime_ns));
  add(id.metadata);
  return hash.hex_digest();
}

std::chrono::milliseconds backoff_delay(unsigned attempt, std::chrono::milliseconds base,
                                        std::chrono::milliseconds cap, double jitter) {
  const unsigned doublings = attempt == 0 ? 0 : std::min(attempt - 1, 30u);
  const double grown = static_cast<double>(base.count()) * std::ldexp(1.0, doublings);
  const double capped = std::min(grown, static_cast<double>(cap.count()));
  const double spread = capped * 0.25 * std::clamp(jitter, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<std::int64_t>(capped + spread));
}

bool is_transient(std::error_code ec) {
  if (ec.category() == http_category()) {
    return ec == http_errc::timeout || ec == http_errc::connection_closed ||
           ec == http_errc::connection_refused || ec == http_errc::unreachable ||
           ec == http_errc::host_not_found;
  }
  if (ec.category() == status_category()) {
    switch (ec.value()) {
      case 408:
      case 423:
      case 429:
      case 500:
      case 502:
      case 503:
      case 504:
        return true;
      default:
        return false;
    }
  }
  return false;
}

}  // namespace tus

// ---- tus_client ---------------------------------------------------------------

tus_client::tus_client(https_client& http, std::string endpoint)
    : http_(http), endpoint_(std::move(endpoint)) {}

result<http_response> tus_client::expect(result<http_response> response, unsigned status) {
  if (!response) return response;
  // 200 and 204 are both seen in the wild for HEAD and PATCH.
  const bool ok = response->status == status || (status == 204 && response->status == 200) ||
                  (status == 200 && response->status == 204);
  if (!ok) {
    const unsigned got = response->status;
    last_error_ = std::move(*response);
    return make_status_error(got);
  }
  return response;
}

result<std::string> tus_client::create(std::uint64_t length, const tus::metadata& metadata) {
  http_request request{.method = "POST", .target = endpoint_, .headers = tus_headers()};
  request.headers.push_back({"Upload-Length", std::to_string(length)});
  if (!metadata.empty())
    request.headers.push_back({"Upload-Metadata", tus::encode_metadata(metadata)});
  auto response = expect(http_.send(request), 201);
  if (!response) return response.error();
  const auto location = response->header("Location");
  if (!location) return make_error_code(tus_errc::bad_response);
  return tus::resolve_location(endpoint_, *location);
}

result<tus::upload_state> tus_client::head(const std::string& upload_url) {
  const http_request request{.method = "HEAD", .target = upload_url, .headers = tus_headers()};
  auto response = expect(http_.send(request), 200);
  if (!response) return response.error();
  return tus::parse_upload_state(*response);
}

result<tus::upload_state> tus_client::patch(const std::string& upload_url, std::uint64_t offset,
                                            crypto::byte_source& body, std::uint64_t length) {
  http_request request{.method = "PATCH", .target = upload_url, .headers = tus_headers()};
  request.headers.push_back({"Upload-Offset", std::to_string(offset)});
  request.headers.push_back({"Content-Type", "application/offset+octet-stream"});
  auto response = expect(http_.send_stream(request, body, length), 204);
  if (!response) return response.error();
  return tus::parse_upload_state(*response);
}

result<void> tus_client::terminate(const std::string& upload_url) {
  const http_request request{.method = "DELETE", .target = upload_url, .headers = tus_headers()};
  auto response = expect(http_.send(request), 204);
  if (!response) return response.error();
  return {};
}

}  // namespace valise::common
