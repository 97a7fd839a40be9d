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
// The same with a body serialized already (a long list, built a piece at a time).
response json_text_response(http::status status, std::string json);
response empty_response(http::status status);

// `s` without the optional white space (SP, HTAB: RFC 9110 §5.6.3) around
// a header value or list element.
std::string_view trim_ows(std::string_view s);

// The value of the bearer token in `Authorization`, or empty.
std::string_view bearer_token(const request_head& head);

}  // namespace valise::server
