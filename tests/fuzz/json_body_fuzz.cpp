// Fuzzes how the server reads JSON request bodies (api/request_body.hpp): a
// body of at most the connection's json_limit becomes an object or a 400
// whose JSON names bad_json; the field readers the routes use take any value
// and either return it or set a 400 (times are RFC 3339); an object that
// parsed serializes and parses back to the same object.
#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "api/request_body.hpp"
#include "http/connection.hpp"
#include "valise/common/rfc3339.hpp"

namespace {

using namespace valise::server;
namespace json = boost::json;

void check(bool ok) {
  if (!ok) std::abort();
}

// Every key the routes read with the field readers.
constexpr const char* keys[] = {"agent",    "bundle_id", "csr",       "error",    "expires_in_s",
                                "hostname", "kernel",    "max_bytes", "name",     "os",
                                "profile",  "ref",       "role",      "severity", "since",
                                "state",    "title",     "until",     "version"};

bool refused(const std::optional<response>& problem) {
  return problem && problem->result() == http::status::bad_request;
}

void fields(const json::object& o) {
  for (const char* key : keys) {
    const auto* v = o.if_contains(key);
    const bool absent = !v || v->is_null();
    // A string without controls is taken as it is; anything else present is a 400.
    std::optional<response> problem;
    const auto text = string_field(o, key, problem);
    check(!text ||
          (!absent && v->is_string() && free_of_controls(*text) && *text == v->as_string()));
    check(text.has_value() != problem.has_value() || absent);
    if (problem) check(refused(problem));
    // since/until: RFC 3339; a time that parses prints as one that parses the same.
    if (const auto time = text ? valise::common::parse_rfc3339(*text) : std::nullopt)
      check(valise::common::parse_rfc3339(valise::common::format_rfc3339(*time)) == time);

    std::optional<response> length_problem;
    const auto bounded = text_field(o, key, {1, 64}, length_problem);
    check(!bounded || (text && *bounded == *text));
    check(bounded.has_value() != length_problem.has_value() || absent);

    // Cleaned text is never refused when it is a string, and holds no control.
    std::optional<response> cleaned_problem;
    const auto cleaned = cleaned_field(o, key, 1024, cleaned_problem);
    if (!absent && v->is_string())
      check(cleaned && cleaned->size() <= 1024 && free_of_controls(*cleaned));

    // Numbers: an integer in range, never a wrapped value.
    std::optional<response> number_problem;
    const auto number = number_field(o, key, {1, 1u << 30}, number_problem);
    check(!number || (*number >= 1 && *number <= (1u << 30)));
    check(number.has_value() != number_problem.has_value() || absent);
    if (number_problem) check(refused(number_problem));
  }
}

// Equal, but doubles only to within rounding: Boost.JSON 1.81 does not
// parse long number literals correctly rounded, so a double may come back
// one unit in the last place away (the routes read integers, never doubles).
bool same(const json::value& a, const json::value& b) {
  if (a.is_double() || b.is_double()) {
    if (!a.is_double() || !b.is_double()) return false;
    const double x = a.as_double(), y = b.as_double();
    return x == y || std::abs(x - y) <= 1e-15 * std::max(std::abs(x), std::abs(y));
  }
  if (a.is_object() && b.is_object()) {
    const auto &o = a.as_object(), &p = b.as_object();
    if (o.size() != p.size()) return false;
    for (const auto& [key, value] : o)
      if (!p.contains(key) || !same(value, p.at(key))) return false;
    return true;
  }
  if (a.is_array() && b.is_array()) {
    const auto &x = a.as_array(), &y = b.as_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!same(x[i], y[i])) return false;
    return true;
  }
  return a == b;
}

// Whether every number is finite: Boost.JSON 1.81 reads a number too large
// for a double as infinity and writes that as -Infinity, which is not JSON
// (the server writes back no number it read from a body).
bool finite(const json::value& v) {
  if (v.is_double()) return std::isfinite(v.as_double());
  if (v.is_object())
    return std::all_of(v.as_object().begin(), v.as_object().end(),
                       [](const json::key_value_pair& kv) { return finite(kv.value()); });
  if (v.is_array()) return std::all_of(v.as_array().begin(), v.as_array().end(), finite);
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > connection_limits{}.json_limit) return 0;  // the connection answers 413
  const std::string body(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_object(body);
  if (auto* refused = std::get_if<response>(&parsed)) {
    check(refused->result() == http::status::bad_request);
    boost::system::error_code ec;
    const auto error = json::parse(refused->body(), ec);
    check(!ec && error.is_object() && error.as_object().at("error") == "bad_json");
    return 0;
  }
  const auto& object = std::get<json::object>(parsed);
  fields(object);
  if (!finite(object)) return 0;
  boost::system::error_code ec;
  const auto again = json::parse(json::serialize(object), ec);
  check(!ec && same(again, object));
  return 0;
}
