// Reading request input: JSON bodies and query numbers, each field checked
// once here (type, range, no control characters), or the 400 that names the
// field and says what it must be.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/url/params_view.hpp>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "http/message.hpp"
#include "valise/crypto/secret.hpp"

namespace valise::server {

// An empty body reads as an empty object (every field optional).
// `options`: an agent's report allows invalid UTF-8 (see cleaned_field).
std::variant<boost::json::object, response> parse_object(
    const std::string& body, const boost::json::parse_options& options = {});

// The values an integer field may take. SQLite stores signed 64-bit
// integers: nothing above INT64_MAX may reach it, or it is stored wrapped.
struct int_range {
  std::uint64_t min = 0;
  std::uint64_t max = std::numeric_limits<std::int64_t>::max();
};

// The lengths a text field may have, in characters (UTF-8 code points).
struct text_length {
  std::size_t min = 0;
  std::size_t max = 255;
};

// Pure: `text` as a decimal integer of digits only, within `range`.
std::optional<std::uint64_t> parse_bounded(std::string_view text, int_range range);

// Pure: `text` holds no control character: C0 (tab and newlines included),
// DEL or C1 (U+0080-U+009F, which some terminals obey as escapes).
bool free_of_controls(std::string_view text);

// Each reader gives the field's value if present (absent or null: nullopt),
// and otherwise sets `problem` to the 400 that names the field, unless a
// problem was already set (the first one is answered).

// A string without control characters.
std::optional<std::string> string_field(const boost::json::object& o, const char* key,
                                        std::optional<response>& problem);
// A string without control characters, of `length` characters.
std::optional<std::string> text_field(const boost::json::object& o, const char* key,
                                      text_length length, std::optional<response>& problem);
// A person's words (a comment, a resolution): UTF-8, lines of printable
// characters (tabs allowed), not blank, at most `max_bytes`. The body must be
// parsed with allow_invalid_utf8, so that bad UTF-8 gets this field's
// message rather than a JSON syntax error. Absent: nullopt, no problem.
std::optional<std::string> note_field(const boost::json::object& o, const char* key,
                                      std::size_t max_bytes, std::optional<response>& problem);
// Text the sender may not control (an agent's `error`: an operator's words,
// a program's message): cleaned, never refused (common::printable_text), at
// most `max_bytes`. Refusing it left requests stuck: the agent retried the
// same report forever.
std::optional<std::string> cleaned_field(const boost::json::object& o, const char* key,
                                         std::size_t max_bytes, std::optional<response>& problem);
// A secret (a password): any string, moved out of the object, whose own
// copy is wiped.
std::optional<crypto::secret_string> secret_field(boost::json::object& o, const char* key,
                                                  std::optional<response>& problem);
// PEM text: lines of printable characters (CR and LF allowed).
std::optional<std::string> pem_field(const boost::json::object& o, const char* key,
                                     std::optional<response>& problem);
// A JSON integer in `range`: not a fraction, a string or a boolean.
std::optional<std::uint64_t> number_field(const boost::json::object& o, const char* key,
                                          int_range range, std::optional<response>& problem);
// A list of at most `max` age X25519 public keys (age1...), each checked
// (bech32 checksum, key type) and made canonical (lowercase), repeats
// dropped.
std::optional<std::vector<std::string>> recipients_field(const boost::json::object& o,
                                                         const char* key, std::size_t max,
                                                         std::optional<response>& problem);
// A query parameter (?key=N) of digits in `range`.
std::optional<std::uint64_t> number_param(const boost::urls::params_view& params, const char* key,
                                          int_range range, std::optional<response>& problem);

}  // namespace valise::server
