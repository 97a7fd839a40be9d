// The one catalogue of API errors: each has a stable code, its HTTP status and
// a default hint. Handlers say which error and, where they know more, which
// input; the catalogue decides the status, so the two never disagree.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <system_error>

#include "http/failure.hpp"
#include "http/message.hpp"

namespace valise::server {

enum class api_error {
  bad_request,
  bad_json,
  unauthorized,
  forbidden,
  not_found,
  route_not_found,
  method_not_allowed,
  ticket_not_found,
  ticket_exists,
  ticket_resolved,
  ticket_open,
  ticket_pending,
  ticket_not_pending,
  upload_not_found,
  upload_gone,
  upload_locked,
  offset_mismatch,
  bundle_not_found,
  link_not_found,
  link_expired,
  link_revoked,
  no_recipients,
  token_not_found,
  too_large,
  budget_exceeded,
  quota_exceeded,
  headers_too_large,
  wrong_content_type,
  not_age_encrypted,
  checksum_mismatch,
  unsupported_checksum,
  tus_version,
  range_not_satisfiable,
  busy,
  database_unavailable,
  too_many_failures,
  too_many_waits,
  transfer_coding,
  storage_full,
  agent_not_found,
  agent_revoked,
  certificate_revoked,
  agent_certificate_required,
  bad_csr,
  request_not_found,
  request_finished,
  bad_transition,
  request_has_bundle,
  bundle_mismatch,
  token_exists,
  csrf_failed,
  bad_credentials,
  user_not_found,
  user_exists,
  connector_not_found,
  delivery_refused,
  delivery_replayed,
  ticket_elsewhere,
  delivery_not_found,
  already_delivered,
  internal,
};

// A 5xx is logged (spdlog::error) with its message: its hint tells the
// client that the server logged the cause.
response error_response(api_error error, std::string message, std::string hint = {});

// With fields beyond error/message/hint that a client acts on: the request's
// "state", the "bundle_id" it already has.
response error_response_with(api_error error, std::string message, boost::json::object fields);

// Store and system errors seen while serving a request, as the client sees
// them; `subject` names the object ("ticket \"T-1\""), `missing` is the error
// for store_errc::not_found. An unexpected error is a 500 whose cause (the
// code's category, value and message) is logged, not sent.
response error_response(std::error_code ec, const std::string& subject,
                        api_error missing = api_error::not_found);

// An error as the catalogue's and what the client is told; `logged`: its
// cause is logged already.
struct error_words {
  api_error error = api_error::internal;
  std::string message;
  bool logged = false;
};

// What error_response(ec, subject, missing) tells the client (and logs).
error_words store_error_words(std::error_code ec, const std::string& subject,
                              api_error missing = api_error::not_found);

// Every part of an error body at once: `fields` first, as in
// error_response_with, then error, message and the hint (empty: the
// catalogue's). A 5xx is logged unless its words were.
response error_response(error_words words, std::string hint, boost::json::object fields);

// A failure the HTTP layer saw (http/failure.hpp) as the catalogue's
// error: what the connection and the router answer in the server.
response api_failure_response(http_failure failure, std::string message);

}  // namespace valise::server
