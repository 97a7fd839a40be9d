#include "api/api_error.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/object.hpp>

#include "pki.hpp"
#include "valise/server/store.hpp"

namespace valise::server {
namespace {

struct entry {
  const char* code;
  http::status status;
  const char* hint;
};

entry describe(api_error e) {
  using s = http::status;
  switch (e) {
    case api_error::bad_request:
      return {"bad_request", s::bad_request, ""};
    case api_error::bad_json:
      return {"bad_json", s::bad_request, "send a JSON object as documented in docs/api.md"};
    case api_error::unauthorized:
      return {"unauthorized", s::unauthorized,
              "send a valid token as `Authorization: Bearer TOKEN`"};
    case api_error::forbidden:
      return {"forbidden", s::forbidden, "this token's role may not use this route"};
    case api_error::not_found:
      return {"not_found", s::not_found, ""};
    case api_error::route_not_found:
      return {"route_not_found", s::not_found, "the API is under /api/v1 (docs/api.md)"};
    case api_error::method_not_allowed:
      return {"method_not_allowed", s::method_not_allowed, ""};
    case api_error::ticket_not_found:
      return {"ticket_not_found", s::not_found, "list tickets with `valise ticket list`"};
    case api_error::ticket_exists:
      return {"ticket_exists", s::conflict, "pick another ref, or use the existing ticket"};
    case api_error::ticket_resolved:
      return {"ticket_resolved", s::conflict, "reopen the ticket first if it still needs data"};
    case api_error::ticket_open:
      return {"ticket_open", s::conflict, ""};
    case api_error::ticket_pending:
      return {"ticket_pending", s::conflict, "resume it with `valise ticket resume REF`"};
    case api_error::ticket_not_pending:
      return {"ticket_not_pending", s::conflict,
              "its clock runs already; set it pending with `valise ticket pending REF`"};
    case api_error::upload_not_found:
      return {"upload_not_found", s::not_found, "start a new upload"};
    case api_error::upload_gone:
      return {"upload_gone", s::gone, "the upload expired or was refused: start a new one"};
    case api_error::upload_locked:
      return {"upload_locked", static_cast<s>(423),
              "another request is writing this upload: retry in a moment"};
    case api_error::offset_mismatch:
      return {"offset_mismatch", s::conflict, "ask HEAD for the current offset and resume there"};
    case api_error::bundle_not_found:
      return {"bundle_not_found", s::not_found, "list bundles with `valise bundle list TICKET`"};
    case api_error::link_not_found:
      return {"link_not_found", s::not_found, ""};
    case api_error::link_expired:
      return {"link_expired", s::unauthorized, "ask the technician for a new upload link"};
    case api_error::link_revoked:
      return {"link_revoked", s::unauthorized,
              "the technician revoked this upload link: ask them for a new one"};
    case api_error::no_recipients:
      return {"no_recipients", s::conflict,
              "name the team's age public keys in server.toml ([keys] recipients, or "
              "`valise-server init --recipient`), send \"recipients\", or create a passphrase "
              "link (`valise link create --passphrase`)"};
    case api_error::token_not_found:
      return {"token_not_found", s::not_found, ""};
    case api_error::too_large:
      return {"too_large", s::payload_too_large, ""};
    case api_error::budget_exceeded:
      return {"budget_exceeded", s::payload_too_large,
              "ask the technician for a link with a larger byte budget"};
    case api_error::quota_exceeded:
      return {"quota_exceeded", s::payload_too_large,
              "finish or terminate this token's unfinished uploads, or delete bundles no longer "
              "needed; the server's operator sets uploads.technician_max_bytes"};
    case api_error::headers_too_large:
      return {"headers_too_large", s::request_header_fields_too_large, ""};
    case api_error::wrong_content_type:
      return {"wrong_content_type", s::unsupported_media_type,
              "send upload bytes as application/offset+octet-stream"};
    case api_error::not_age_encrypted:
      return {"not_age_encrypted", s::unsupported_media_type,
              "encrypt the file first: `valise pack` or `valise encrypt`"};
    case api_error::checksum_mismatch:
      return {"checksum_mismatch", static_cast<s>(460),
              "the bytes were damaged in transit: send this chunk again"};
    case api_error::unsupported_checksum:
      return {"unsupported_checksum", s::bad_request, "use sha1 or sha256"};
    case api_error::tus_version:
      return {"tus_version", s::precondition_failed, "send Tus-Resumable: 1.0.0"};
    case api_error::range_not_satisfiable:
      return {"range_not_satisfiable", s::range_not_satisfiable, ""};
    case api_error::busy:
      return {"busy", s::service_unavailable, "the server is at its connection limit: retry"};
    case api_error::database_unavailable:
      return {"database_unavailable", s::service_unavailable,
              "the server cannot reach its database: retry in a few seconds; its log says why"};
    case api_error::too_many_failures:
      return {"too_many_failures", s::too_many_requests,
              "check the token, then wait the Retry-After seconds before trying again"};
    case api_error::too_many_waits:
      return {"too_many_waits", s::too_many_requests,
              "this credential already has as many event long-polls waiting as it may: close "
              "another console tab, or wait for one of them to answer"};
    case api_error::transfer_coding:
      return {"transfer_coding", s::not_implemented,
              "send the body with Content-Length, or Transfer-Encoding: chunked alone"};
    case api_error::storage_full:
      return {"storage_full", s::insufficient_storage,
              "the server's disk is full: tell its operator"};
    case api_error::agent_not_found:
      return {"agent_not_found", s::not_found, "list agents with `valise agent list`"};
    case api_error::agent_revoked:
      return {"agent_revoked", s::conflict,
              "the agent is revoked: enroll the host again for a new agent id"};
    case api_error::certificate_revoked:
      return {"certificate_revoked", s::forbidden,
              "this agent was revoked: enroll it again with a new enrollment token"};
    case api_error::agent_certificate_required:
      return {"agent_certificate_required", s::unauthorized,
              "agent routes take the client certificate from `valise-agent enroll`, no token"};
    case api_error::bad_csr:
      return {"bad_csr", s::bad_request,
              "send a PEM PKCS#10 request for an EC P-256 key (`openssl req -new`)"};
    case api_error::request_not_found:
      return {"request_not_found", s::not_found, "list requests with `valise request list`"};
    case api_error::request_finished:
      return {"request_finished", s::conflict, "the request is over: drop the job"};
    case api_error::bad_transition:
      return {"bad_transition", s::conflict,
              "queued -> awaiting_approval -> collecting -> uploading -> done, or failed"};
    case api_error::request_has_bundle:
      return {"request_has_bundle", s::conflict,
              "the request already has its bundle: report it done with that bundle_id"};
    case api_error::delivery_not_found:
      return {"delivery_not_found", s::not_found, "list deliveries with `valise outbox`"};
    case api_error::already_delivered:
      return {"already_delivered", s::conflict, "the delivery was made: nothing to retry"};
    case api_error::bundle_mismatch:
      return {"bundle_mismatch", s::conflict,
              "report done with the bundle id of the request's own completed upload"};
    case api_error::token_exists:
      return {"token_exists", s::conflict,
              "pick another name, or revoke the token of that name first"};
    case api_error::csrf_failed:
      return {"csrf_failed", s::forbidden,
              "send the session's csrf value as X-Valise-CSRF, from the server's own origin; "
              "reload the console if it is old"};
    case api_error::bad_credentials:
      return {"bad_credentials", s::unauthorized, "check the user name and password"};
    case api_error::user_not_found:
      return {"user_not_found", s::not_found, "list users with `valise-server user list`"};
    case api_error::user_exists:
      return {"user_exists", s::conflict, "pick another name, or change that user's password"};
    case api_error::connector_not_found:
      return {"connector_not_found", s::not_found,
              "the URL's last segment is the NAME of a [helpdesk.NAME] table in server.toml"};
    case api_error::delivery_refused:
      return {"delivery_refused", s::unauthorized,
              "the message says which check failed: the connector's secret, headers and "
              "timestamp window must match the helpdesk's webhook (docs/helpdesk/)"};
    case api_error::delivery_replayed:
      return {"delivery_replayed", s::conflict, "this delivery was received already"};
    case api_error::ticket_elsewhere:
      return {"ticket_elsewhere", s::conflict,
              "valise has a ticket of that ref that did not come from this helpdesk (made by "
              "hand, or another connector's): resolve or rename one of them"};
    case api_error::internal:
      return {"internal", s::internal_server_error, "the server logged the cause"};
  }
  return {"internal", s::internal_server_error, ""};
}

// For the log: a message may quote the client's input (a path parameter).
std::string escaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f)
      out += fmt::format("\\x{:02x}", u);
    else
      out += c;
  }
  return out;
}

// The errors an operator must hear of: the client is told the cause is logged
// (internal), or to tell the operator (storage_full). A busy server (503) is
// not logged per refused connection.
bool operator_error(api_error e) {
  return e == api_error::internal || e == api_error::storage_full;
}

// A 503 database_unavailable's Retry-After, in seconds: a restart or a
// failover takes a few (docs/postgresql.md, "A lost connection").
constexpr int database_retry_after = 5;

}  // namespace

response error_response(error_words words, std::string hint, boost::json::object fields) {
  const entry e = describe(words.error);
  if (operator_error(words.error) && !words.logged)
    spdlog::error("{}: {}", e.code, escaped(words.message));
  fields["error"] = e.code;
  fields["message"] = std::move(words.message);
  if (hint.empty()) hint = e.hint;
  if (!hint.empty()) fields["hint"] = std::move(hint);
  auto res = json_response(e.status, fields);
  if (words.error == api_error::database_unavailable)
    res.set(http::field::retry_after, std::to_string(database_retry_after));
  return res;
}

response error_response(api_error error, std::string message, std::string hint) {
  return error_response({error, std::move(message)}, std::move(hint), {});
}

response error_response_with(api_error error, std::string message, boost::json::object fields) {
  return error_response({error, std::move(message)}, {}, std::move(fields));
}

error_words store_error_words(std::error_code ec, const std::string& subject, api_error missing) {
  if (ec == store_errc::not_found) return {missing, "no " + subject};
  if (ec == store_errc::already_exists)
    return {api_error::ticket_exists, subject + " already exists"};
  if (ec == store_errc::ticket_resolved)
    return {api_error::ticket_resolved, subject + ": the ticket is resolved"};
  if (ec == store_errc::ticket_open) return {api_error::ticket_open, subject + " is open"};
  if (ec == store_errc::ticket_pending)
    return {api_error::ticket_pending, subject + " is already pending"};
  if (ec == store_errc::ticket_not_pending)
    return {api_error::ticket_not_pending, subject + " is not pending"};
  if (ec == store_errc::revoked)
    return {api_error::agent_revoked, subject + ": the agent is revoked"};
  if (ec == store_errc::request_finished)
    return {api_error::request_finished, subject + ": the request is over"};
  if (ec == store_errc::has_bundle)
    return {api_error::request_has_bundle, subject + ": the request has its bundle"};
  if (ec.category() == csr_category()) return {api_error::bad_csr, ec.message()};
  if (ec == store_errc::budget_exceeded)
    return {api_error::budget_exceeded, "the upload link's byte budget would be exceeded"};
  if (ec == store_errc::quota_exceeded)
    return {api_error::quota_exceeded, subject + ": this token's upload budget would be exceeded"};
  if (is_invalid_text(ec))
    return {api_error::bad_request, subject + ": text with a NUL byte or bytes that are not UTF-8"};
  // Not logged per call: the store logs the outage once, and its end.
  if (is_database_unavailable(ec))
    return {api_error::database_unavailable, subject + ": the database is unavailable"};
  // The cause goes to the log only: it may name files and SQL.
  const api_error e =
      ec == std::errc::no_space_on_device ? api_error::storage_full : api_error::internal;
  spdlog::error("{} on {}: {} ({} {})", describe(e).code, escaped(subject), ec.message(),
                ec.category().name(), ec.value());
  return {
      e,
      e == api_error::storage_full ? "no space left on the server" : "internal error on " + subject,
      true};
}

response error_response(std::error_code ec, const std::string& subject, api_error missing) {
  return error_response(store_error_words(ec, subject, missing), {}, {});
}

response api_failure_response(http_failure failure, std::string message) {
  switch (failure) {
    case http_failure::bad_request:
      return error_response(api_error::bad_request, std::move(message));
    case http_failure::headers_too_large:
      return error_response(api_error::headers_too_large, std::move(message));
    case http_failure::transfer_coding:
      return error_response(api_error::transfer_coding, std::move(message));
    case http_failure::too_large:
      return error_response(api_error::too_large, std::move(message));
    case http_failure::busy:
      return error_response(api_error::busy, std::move(message));
    case http_failure::route_not_found:
      return error_response(api_error::route_not_found, std::move(message));
    case http_failure::method_not_allowed:
      return error_response(api_error::method_not_allowed, std::move(message));
  }
  return error_response(api_error::internal, std::move(message));
}

}  // namespace valise::server
