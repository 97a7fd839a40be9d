#include "api/request_body.hpp"

#include <boost/json/parse.hpp>

#include "api/api_error.hpp"
#include "valise/common/printable_text.hpp"
#include "valise/server/config.hpp"

namespace valise::server {

namespace json = boost::json;

namespace {

void refuse(std::optional<response>& problem, const char* key, const std::string& what) {
  if (!problem) problem = error_response(api_error::bad_request, std::string(key) + " " + what);
}

std::string range_text(int_range range) {
  return "must be an integer from " + std::to_string(range.min) + " to " +
         std::to_string(range.max);
}

// Code points of valid UTF-8 (Boost.JSON refuses invalid UTF-8 when parsing).
std::size_t characters(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xc0) != 0x80;
  return n;
}

// Whether every control character of `text` is one of `allowed` (ASCII).
bool controls_only_from(std::string_view text, std::string_view allowed) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 || c == 0x7f) && allowed.find(text[i]) == std::string_view::npos) return false;
    // U+0080-U+009F are 0xC2 0x80-0x9F in UTF-8.
    if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) <= 0x9f)
      return false;
  }
  return true;
}

// The string at `key`; null if absent, or if not a string (refused).
const json::string* string_at(const json::object& o, const char* key,
                              std::optional<response>& problem) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return nullptr;
  if (!v->is_string()) {
    refuse(problem, key, "must be a string");
    return nullptr;
  }
  return &v->as_string();
}

// `allowed`: control characters let through (PEM's line breaks).
std::optional<std::string> checked_string(const json::object& o, const char* key,
                                          std::string_view allowed,
                                          std::optional<response>& problem) {
  auto* s = string_at(o, key, problem);
  if (!s) return std::nullopt;
  std::string_view text = *s;
  if (!controls_only_from(text, allowed)) {
    refuse(problem, key,
           allowed.empty() ? "must not contain control characters (newline, tab, escape, NUL)"
                           : "must be lines of printable characters");
    return std::nullopt;
  }
  return std::string(text);
}

}  // namespace

std::variant<json::object, response> parse_object(const std::string& body,
                                                  const json::parse_options& options) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object{};
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, {}, options);
  if (ec) return error_response(api_error::bad_json, "the body is not JSON: " + ec.message());
  if (!v.is_object()) return error_response(api_error::bad_json, "the body must be a JSON object");
  return std::move(v.as_object());
}

std::optional<std::uint64_t> parse_bounded(std::string_view text, int_range range) {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (value < range.min || value > range.max) return std::nullopt;
  return value;
}

bool free_of_controls(std::string_view text) {
  return controls_only_from(text, {});
}

std::optional<std::string> string_field(const json::object& o, const char* key,
                                        std::optional<response>& problem) {
  return checked_string(o, key, {}, problem);
}

std::optional<std::string> text_field(const json::object& o, const char* key, text_length length,
                                      std::optional<response>& problem) {
  auto text = checked_string(o, key, {}, problem);
  if (!text) return std::nullopt;
  const auto n = characters(*text);
  if (n < length.min || n > length.max) {
    refuse(problem, key,
           length.min == 0 ? "must be at most " + std::to_string(length.max) + " characters"
                           : "must be " + std::to_string(length.min) + " to " +
                                 std::to_string(length.max) + " characters");
    return std::nullopt;
  }
  return text;
}

std::optional<crypto::secret_string> secret_field(json::object& o, const char* key,
                                                  std::optional<response>& problem) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) {
    refuse(problem, key, "must be a string");
    return std::nullopt;
  }
  auto& text = v->as_string();
  crypto::secret_string out(std::string(text.data(), text.size()));
  crypto::secure_zero(text.data(), text.size());
  return out;
}

std::optional<std::string> note_field(const json::object& o, const char* key, std::size_t max_bytes,
                                      std::optional<response>& problem) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) {
    refuse(problem, key, "must be a string");
    return std::nullopt;
  }
  std::string text(v->as_string());
  // printable_text keeps exactly the valid UTF-8 without controls, once
  // tabs and line breaks (which it turns into spaces) are spaces already.
  std::string flat = text;
  for (auto& c : flat)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  if (common::printable_text(flat, flat.size()) != flat) {
    refuse(problem, key,
           "must be UTF-8 text without control characters (tabs and line breaks are fine)");
    return std::nullopt;
  }
  if (flat.find_first_not_of(' ') == std::string::npos) {
    refuse(problem, key, "must not be empty");
    return std::nullopt;
  }
  if (text.size() > max_bytes) {
    refuse(problem, key,
           "must be at most " + std::to_string(max_bytes) + " bytes of UTF-8; this one has " +
               std::to_string(text.size()) + " (attach a longer text to the ticket as a bundle)");
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> cleaned_field(const json::object& o, const char* key,
                                         std::size_t max_bytes, std::optional<response>& problem) {
  auto* s = string_at(o, key, problem);
  if (!s) return std::nullopt;
  return common::printable_text(*s, max_bytes);
}

std::optional<std::string> pem_field(const json::object& o, const char* key,
                                     std::optional<response>& problem) {
  return checked_string(o, key, "\r\n", problem);
}

std::optional<std::uint64_t> number_field(const json::object& o, const char* key, int_range range,
                                          std::optional<response>& problem) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  // A fraction, an exponent or a number past uint64 is a double: refused,
  // never rounded.
  std::optional<std::uint64_t> value;
  if (v->is_uint64()) value = v->as_uint64();
  if (v->is_int64() && v->as_int64() >= 0) value = static_cast<std::uint64_t>(v->as_int64());
  if (!value || *value < range.min || *value > range.max) {
    refuse(problem, key, range_text(range));
    return std::nullopt;
  }
  return value;
}

std::optional<std::vector<std::string>> recipients_field(const json::object& o, const char* key,
                                                         std::size_t max,
                                                         std::optional<response>& problem) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  const std::string wrong = "must be a list of at most " + std::to_string(max) +
                            " age public keys (age1..., as age-keygen prints them)";
  if (!v->is_array() || v->as_array().size() > max) {
    refuse(problem, key, wrong);
    return std::nullopt;
  }
  std::vector<std::string> listed;
  for (const auto& k : v->as_array()) {
    if (!k.is_string()) {
      refuse(problem, key, wrong);
      return std::nullopt;
    }
    listed.emplace_back(k.as_string());
  }
  auto keys = canonical_age_recipients(listed);
  if (!keys) {
    refuse(problem, key,
           wrong + ": \"" + common::printable_text(keys.error(), 100) + "\" is not one");
    return std::nullopt;
  }
  return std::move(*keys);
}

std::optional<std::uint64_t> number_param(const boost::urls::params_view& params, const char* key,
                                          int_range range, std::optional<response>& problem) {
  auto it = params.find(key);
  if (it == params.end()) return std::nullopt;
  auto value = parse_bounded((*it).value, range);
  if (!value) refuse(problem, key, range_text(range));
  return value;
}

}  // namespace valise::server
