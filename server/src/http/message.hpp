// The HTTP vocabulary shared by routes and the tus handler: Beast message types
// and the few response builders every handler uses.
#pragma once

#include <boost/beast/http.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>

namespace valise::server {

namespace http = boost::beast::http;
using request_head = http::request_header<>;
using response = http::response<http::string_body>;

response json_response(http::status status, const boost::json::value& body);
response empty_response(http::status status);

// The value of the bearer token in `Authorization`, or empty.
std::string_view bearer_token(const request_head& head);

}  // namespace valise::server
