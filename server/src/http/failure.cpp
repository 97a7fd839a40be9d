#include "http/failure.hpp"

namespace valise::server {

response plain_failure_response(http_failure failure, std::string message) {
  auto status = http::status::bad_request;
  switch (failure) {
    case http_failure::bad_request:
      break;
    case http_failure::headers_too_large:
      status = http::status::request_header_fields_too_large;
      break;
    case http_failure::transfer_coding:
      status = http::status::not_implemented;
      break;
    case http_failure::too_large:
      status = http::status::payload_too_large;
      break;
    case http_failure::busy:
      status = http::status::service_unavailable;
      break;
    case http_failure::route_not_found:
      status = http::status::not_found;
      break;
    case http_failure::method_not_allowed:
      status = http::status::method_not_allowed;
      break;
  }
  response res{status, 11};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::move(message) + '\n';
  res.prepare_payload();
  return res;
}

}  // namespace valise::server
