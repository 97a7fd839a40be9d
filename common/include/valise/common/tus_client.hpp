// A tus 1.0.0 client (core, creation, termination) over https_client, and
// upload_file(), which sends one file resumably: after a network failure it
// asks the server for the offset and goes on from there (capped backoff, a few
// attempts), and a resume_store keeps the upload's URL between runs so that a
// restarted command goes on too. Used by `valise send`; written to serve the
// agent's uploader as well.
//
// One streamed PATCH carries the rest of the file, without Upload-Checksum: a
// checksummed PATCH is all-or-nothing on the server, so a cut connection would
// lose everything sent since its start, while a plain one keeps every byte
// received. TLS already protects bytes in transit; the end-to-end check is the
// server's SHA-256 of the completed upload (Valise-Bundle-Sha256) against the
// file's own.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "valise/common/https_client.hpp"
#include "valise/crypto/io.hpp"

namespace valise::common {

enum class tus_errc {
  bad_response = 1,   // a success status without the headers tus requires
  not_age_file,       // the file does not begin like an age file: the server would refuse it
  file_changed,       // the file's size or modification time changed during the upload
  checksum_mismatch,  // the server's SHA-256 of the completed upload is not the file's
};

const std::error_category& tus_category() noexcept;
std::error_code make_error_code(tus_errc e) noexcept;
std::string_view hint(tus_errc e) noexcept;

namespace tus {

inline constexpr std::string_view version = "1.0.0";

// ---- pure parts (unit-tested) -------------------------------------------------

// Upload-Metadata: "key base64(value),key2 base64(value2)". Keys must be
// non-empty without spaces or commas (the caller's constants).
using metadata = std::vector<std::pair<std::string, std::string>>;
std::string encode_metadata(const metadata& m);

// Upload-Offset and Upload-Length values: plain decimal digits, nothing else.
std::optional<std::uint64_t> parse_size(std::string_view text);

// What the server says about an upload after HEAD or PATCH.
struct upload_state {
  std::uint64_t offset = 0;
  std::optional<std::uint64_t> length;  // absent while the length is deferred
  std::string bundle_id;                // Valise-Bundle-Id, once complete
  std::string bundle_sha256;            // Valise-Bundle-Sha256 (hex), once complete
  bool complete() const { return length && offset == *length; }
};
// From a 2xx HEAD or PATCH response; bad_response without a valid Upload-Offset.
result<upload_state> parse_upload_state(const http_response& response);

// The absolute URL of a new upload: its Location header resolved against the
// endpoint's URL (RFC 3986 section 5).
result<std::string> resolve_location(std::string_view endpoint, std::string_view location);

// What makes a saved upload resumable: the same unchanged file going to the
// same endpoint with the same metadata (so the same ticket).
struct upload_identity {
  std::string endpoint;  // absolute tus endpoint URL
  std::string path;      // absolute path of the file
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::string metadata;  // encoded Upload-Metadata
};
// 64 hex digits: a SHA-256 over the identity's fields, usable as a file name.
std::string resume_key(const upload_identity& id);

// The wait before retry number `attempt` (1 for the first): base * 2^(attempt-1)
// capped at `cap`, then lengthened by up to a quarter times `jitter` (a number
// in [0, 1) that the caller draws, so that many clients do not retry in step).
std::chrono::milliseconds backoff_delay(unsigned attempt, std::chrono::milliseconds base,
                                        std::chrono::milliseconds cap, double jitter);

// Whether trying again later can help: a network failure, or HTTP 408, 423
// (another request holds the upload), 429, 500, 502, 503, 504.
bool is_transient(std::error_code ec);

}  // namespace tus

// The protocol's requests on one upload endpoint. Every response with an
// unexpected status becomes make_status_error(status); last_error_response()
// then holds it, for the server's JSON error body.
class tus_client {
 public:
  // `endpoint`: absolute URL of the tus endpoint, on the https_client's server.
  tus_client(https_client& http, std::string endpoint);

  const std::string& endpoint() const { return endpoint_; }
  https_client& http() { return http_; }

  // POST with Upload-Length and Upload-Metadata, no body; the upload's absolute URL.
  result<std::string> create(std::uint64_t length, const tus::metadata& metadata);
  result<tus::upload_state> head(const std::string& upload_url);
  // PATCH at `offset` with `length` bytes streamed from `body`.
  result<tus::upload_state> patch(const std::string& upload_url, std::uint64_t offset,
                                  crypto::byte_source& body, std::uint64_t length);
  result<void> terminate(const std::string& upload_url);

  const std::optional<http_response>& last_error_response() const { return last_error_; }

 private:
  result<http_response> expect(result<http_response> response, unsigned status);
  https_client& http_;
  std::string endpoint_;
  std::optional<http_response> last_error_;
};

// Upload URLs kept between runs: one small JSON file per upload identity in
// `dir` (created 0700 when first needed). It holds the URL, the file's path and
// size, never a credential: the URL alone does not let anyone write to it.
class resume_store {
 public:
  explicit resume_store(std::filesystem::path dir) : dir_(std::move(dir)) {}
  const std::filesystem::path& dir() const { return dir_; }

  std::optional<std::string> load(const std::string& key) const;
  result<void> save(const std::string& key, const std::string& upload_url,
                    const tus::upload_identity& id);
  void remove(const std::string& key);
  // Forgets uploads saved longer ago than `age` (the server has expired them).
  void prune(std::chrono::hours age);

 private:
  std::filesystem::path dir_;
};

struct file_upload_options {
  tus::metadata metadata;          // filename, ticket, ...
  resume_store* resume = nullptr;  // null: resume within this call only
  unsigned max_retries = 5;        // consecutive failures without progress
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_cap{30000};
  std::uint64_t rate_limit = 0;  // bytes per second, 0 for none
  // Bytes the server has or is being sent, out of the file's size.
  std::function<void(std::uint64_t done, std::uint64_t total)> on_progress;
  // Before waiting `wait` for retry number `attempt` after `error`.
  std::function<void(std::error_code error, unsigned attempt, std::chrono::milliseconds wait)>
      on_retry;
};

struct file_upload_result {
  std::string upload_url;
  std::string bundle_id;
  std::string sha256;  // the file's, equal to the server's
  std::uint64_t size = 0;
  std::uint64_t resumed_from = 0;  // bytes the server already had when this call began
  bool started_over = false;       // a saved upload had expired or vanished
};

// Sends `file` (an age file) to the client's endpoint and verifies the stored
// SHA-256. Retries transient failures once the server has answered at least
// once in this call (a 503 counts as an answer); a first connection that fails
// is reported at once (wrong address, server down), as a command-line user
// expects.
result<file_upload_result> upload_file(tus_client& client, const std::filesystem::path& file,
                                       const file_upload_options& options);

}  // namespace valise::common

template <>
struct std::is_error_code_enum<valise::common::tus_errc> : std::true_type {};
