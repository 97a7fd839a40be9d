// What the tus module says when it refuses a request: one error code, its
// own (tus::error) for what the protocol checks, or the application's (a
// hook's refusal, the store's error), which it passes on without knowing
// it; and the context to word it with. The server maps every code to HTTP
// and its error bodies (api/upload_service.cpp).
#pragma once

#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace valise::server::tus {

enum class error {
  bad_request = 1,       // a header is missing or malformed (0 is no error)
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

const std::error_category& error_category();
std::error_code make_error_code(error e);

}  // namespace valise::server::tus

template <>
struct std::is_error_code_enum<valise::server::tus::error> : std::true_type {};

namespace valise::server::tus {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct failure {
  // What went wrong: a tus::error, or the application's code.
  std::error_code code = error::internal;
  // What the client is told; empty for a code the server words itself
  // about `subject` (the store's error about an upload).
  std::string message;
  std::string subject;  // the object it is about: "upload upl_…"
  std::string hint;     // empty: the code's own
  header_list fields;   // more string fields of the error body ("state", …)
  header_list headers;  // more response headers (Upload-Offset, …)
};

inline failure refused(error code, std::string message, std::string hint = {}) {
  return {.code = code, .message = std::move(message), .hint = std::move(hint)};
}

}  // namespace valise::server::tus
