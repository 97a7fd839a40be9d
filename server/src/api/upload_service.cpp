#include "api/upload_service.hpp"

#include <boost/json/object.hpp>

#include "api/api_error.hpp"
#include "uploads/store_uploads.hpp"

namespace valise::server {
namespace {

api_error from_tus(tus::error e) {
  switch (e) {
    case tus::error::bad_request:
      return api_error::bad_request;
    case tus::error::version:
      return api_error::tus_version;
    case tus::error::wrong_content_type:
      return api_error::wrong_content_type;
    case tus::error::not_found:
      return api_error::upload_not_found;
    case tus::error::gone:
      return api_error::upload_gone;
    case tus::error::locked:
      return api_error::upload_locked;
    case tus::error::offset_mismatch:
      return api_error::offset_mismatch;
    case tus::error::too_large:
      return api_error::too_large;
    case tus::error::checksum_mismatch:
      return api_error::checksum_mismatch;
    case tus::error::unsupported_checksum:
      return api_error::unsupported_checksum;
    case tus::error::budget_exceeded:
      return api_error::budget_exceeded;
    case tus::error::storage_full:
      return api_error::storage_full;
    case tus::error::forbidden:
      return api_error::forbidden;
    case tus::error::internal:
      return api_error::internal;
  }
  return api_error::internal;
}

}  // namespace

api_error api_error_of(uploads::refusal r) {
  using uploads::refusal;
  switch (r) {
    case refusal::bad_request:
      return api_error::bad_request;
    case refusal::no_recipients:
      return api_error::no_recipients;
    case refusal::request_finished:
      return api_error::request_finished;
    case refusal::request_has_bundle:
      return api_error::request_has_bundle;
    case refusal::quota_exceeded:
      return api_error::quota_exceeded;
    case refusal::ticket_not_found:
      return api_error::ticket_not_found;
    case refusal::not_age_encrypted:
      return api_error::not_age_encrypted;
  }
  return api_error::internal;
}

namespace {

// tus's codes and the policy's are the catalogue's errors with the
// failure's message; any other is the store's error about the failure's
// subject, worded as everywhere else (the policy words what not_found means
// for a ticket itself, so here it is an upload).
error_words words_of(const tus::failure& f) {
  if (f.code.category() == tus::error_category())
    return {from_tus(static_cast<tus::error>(f.code.value())), f.message};
  if (f.code.category() == uploads::refusal_category())
    return {api_error_of(static_cast<uploads::refusal>(f.code.value())), f.message};
  return store_error_words(f.code, f.subject, api_error::upload_not_found);
}

outcome served(tus::answer o) {
  if (auto* res = std::get_if<response>(&o)) return std::move(*res);
  return std::move(std::get<std::unique_ptr<body_receiver>>(o));
}

}  // namespace

response tus_failure_response(const tus::failure& f) {
  boost::json::object fields;
  for (const auto& [name, value] : f.fields) fields[name] = value;
  return error_response(words_of(f), f.hint, std::move(fields));
}

void upload_service::counter::started() {
  stats_.uploads_started.fetch_add(1, std::memory_order_relaxed);
}
void upload_service::counter::received(std::uint64_t bytes) {
  stats_.upload_bytes.fetch_add(bytes, std::memory_order_relaxed);
}
void upload_service::counter::completed() {
  stats_.uploads_completed.fetch_add(1, std::memory_order_relaxed);
}
void upload_service::counter::refused() {
  stats_.uploads_refused.fetch_add(1, std::memory_order_relaxed);
}

upload_service::upload_service(store& db, uploads::limits lim, metrics& stats,
                               tus::upload_locks* locks)
    : db_(db),
      policy_(db, lim),
      counter_(stats),
      protocol_({.max_size = lim.max_upload_bytes, .locks = locks}, tus_failure_response, &age_,
                &counter_) {}

outcome upload_service::create(const request_head& head, const actor& who, unix_time now) {
  uploads::store_uploads caller(db_, policy_, who);
  return served(protocol_.create(head, caller.as_caller(), now));
}

response upload_service::head(const request_head& head, const actor& who, const std::string& id,
                              unix_time now) {
  uploads::store_uploads caller(db_, policy_, who);
  return protocol_.head(head, caller.as_caller(), id, now);
}

outcome upload_service::patch(const request_head& head, const actor& who, const std::string& id,
                              unix_time now) {
  uploads::store_uploads caller(db_, policy_, who);
  return served(protocol_.patch(head, caller.as_caller(), id, now));
}

response upload_service::terminate(const request_head& head, const actor& who,
                                   const std::string& id) {
  uploads::store_uploads caller(db_, policy_, who);
  return protocol_.terminate(head, caller.as_caller(), id);
}

}  // namespace valise::server
