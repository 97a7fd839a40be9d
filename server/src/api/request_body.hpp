// Reading JSON request bodies: the object, or the 400 that says what is wrong.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <variant>

#include "http/message.hpp"

namespace valise::server {

// An empty body reads as an empty object (every field optional).
std::variant<boost::json::object, response> parse_object(const std::string& body);

// A field's value if present and of the right type; `problem` is set to the
// 400 response when present with another type.
std::optional<std::string> string_field(const boost::json::object& o, const char* key,
                                        std::optional<response>& problem);
std::optional<std::uint64_t> size_field(const boost::json::object& o, const char* key,
                                        std::optional<response>& problem);

}  // namespace valise::server
