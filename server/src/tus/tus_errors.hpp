// What the tus module says when it refuses a request: its own codes for what
// the protocol checks, and room for the application's refusals (a hook's,
// the store's), which it passes on without knowing them. The server maps
// both to HTTP and its error bodies (api/upload_service.cpp).
#pragma once

#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace valise::server::tus {

enum class error {
  bad_request,           // a header is missing or malformed
  version,               // Tus-Resumable is not 1.0.0
  wrong_content_type,    // a body that is not application/offset+octet-stream
  not_found,             // no such upload (for this caller)
  gone,                  // expired or refused
  locked,                // another request is writing the upload
  offset_mismatch,       // Upload-Offset is not the upload's size
  too_large,             // over Upload-Length or the caller's size limit
  checksum_mismatch,     // Upload-Checksum did not match the body
  unsupported_checksum,  // Upload-Checksum names another algorithm
  budget_exceeded,       // a metered upload's budget is spent (metered_upload)
  storage_full,          // the storage is at its reserve
  forbidden,
  internal,
};

using header_list = std::vector<std::pair<std::string, std::string>>;

struct failure {
  error code = error::internal;
  std::string message;
  std::string hint;  // empty: the code's own
  // Set by a hook: the application's reason, which replaces `code` (and
  // which the server maps itself).
  std::error_code refusal;
  // Set: the store's error about `message`, which names the object
  // ("upload upl_…"); `code` (or `refusal`) is what not_found means then.
  std::error_code cause;
  header_list fields;   // more string fields of the error body ("state", …)
  header_list headers;  // more response headers (Upload-Offset, …)
};

inline failure refused(error code, std::string message, std::string hint = {}) {
  return {.code = code, .message = std::move(message), .hint = std::move(hint)};
}

}  // namespace valise::server::tus
