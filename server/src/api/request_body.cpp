#include "api/request_body.hpp"

#include <boost/json/parse.hpp>

#include "api/api_error.hpp"

namespace valise::server {

namespace json = boost::json;

std::variant<json::object, response> parse_object(const std::string& body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object{};
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return error_response(api_error::bad_json, "the body is not JSON: " + ec.message());
  if (!v.is_object()) return error_response(api_error::bad_json, "the body must be a JSON object");
  return std::move(v.as_object());
}

std::optional<std::string> string_field(const json::object& o, const char* key,
                                        std::optional<response>& problem) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) {
    problem = error_response(api_error::bad_request, std::string(key) + " must be a string");
    return std::nullopt;
  }
  return std::string(v->as_string());
}

std::optional<std::uint64_t> size_field(const json::object& o, const char* key,
                                        std::optional<response>& problem) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  if (v->is_uint64()) return v->as_uint64();
  if (v->is_int64() && v->as_int64() >= 0) return static_cast<std::uint64_t>(v->as_int64());
  problem =
      error_response(api_error::bad_request, std::string(key) + " must be a non-negative integer");
  return std::nullopt;
}

}  // namespace valise::server
