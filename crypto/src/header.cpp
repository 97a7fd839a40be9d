// Header parser and encoder. The parser is strict (the ABNF of age.md, canonical
// base64) so that every accepted header has exactly one encoding, which the
// fuzz target checks. It also judges an incomplete last line: it fails early
// when no continuation could make the line valid, with the error the complete
// line would give, so the result does not depend on how input was split.
#include "header.hpp"

#include <algorithm>

#include "base64.hpp"
#include "bytes.hpp"

namespace valise::crypto::detail {
namespace {

constexpr std::string_view stanza_prefix = "-> ";
constexpr std::string_view mac_prefix = "---";
constexpr std::size_t mac_line_size = 3 + 1 + 43;  // "--- " and 32 bytes in base64

using parse_result = result<std::optional<header>>;

parse_result fail(errc e) {
  return make_error_code(e);
}

parse_result need_more() {
  return std::optional<header>();
}

bool is_vchar(char c) {
  return c >= 0x21 && c <= 0x7e;
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

bool starts_with_prefix_of(std::string_view text, std::string_view prefix) {
  const auto n = std::min(text.size(), prefix.size());
  return text.substr(0, n) == prefix.substr(0, n);
}

// Splits "a b c" on single spaces; nullopt on an empty argument or a non-VCHAR.
std::optional<std::vector<std::string>> split_arguments(std::string_view text) {
  std::vector<std::string> args;
  for (;;) {
    const auto space = text.find(' ');
    const auto arg = text.substr(0, space);
    if (arg.empty()) return std::nullopt;
    for (char c : arg) {
      if (!is_vchar(c)) return std::nullopt;
    }
    args.emplace_back(arg);
    if (space == std::string_view::npos) return args;
    text.remove_prefix(space + 1);
  }
}

// Lines of the input; the last one may lack its LF (more input to come).
class line_cursor {
 public:
  explicit line_cursor(std::string_view text) : text_(text) {}
  // The next complete line without its LF, or nullopt if the input ends first.
  std::optional<std::string_view> next() {
    const auto lf = text_.find('\n', pos_);
    if (lf == std::string_view::npos) return std::nullopt;
    const auto line = text_.substr(pos_, lf - pos_);
    pos_ = lf + 1;
    return line;
  }
  std::string_view partial() const { return text_.substr(pos_); }
  std::size_t pos() const { return pos_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

// The version line: "age-encryption.org/" and 1*VCHAR; only "v1" is known.
std::optional<errc> check_version(std::string_view line, bool complete) {
  if (!starts_with_prefix_of(line, version_prefix)) return errc::not_age_file;
  if (line.size() < version_prefix.size()) {
    return complete ? std::optional(errc::not_age_file) : std::nullopt;
  }
  const auto version = line.substr(version_prefix.size());
  for (char c : version) {
    if (!is_vchar(c)) return errc::malformed_header;  // CRLF endings land here
  }
  if (!complete) return std::nullopt;
  if (version.empty()) return errc::malformed_header;
  if (version != "v1") return errc::unsupported_version;
  return std::nullopt;
}

// A line that may begin a stanza or be the MAC line, not yet complete.
std::optional<errc> check_partial_line(std::string_view line, bool have_stanzas) {
  if (line.starts_with(mac_prefix)) {
    if (!have_stanzas || line.size() > mac_line_size) return errc::malformed_header;
    if (line.size() > 3 && line[3] != ' ') return errc::malformed_header;
    return std::nullopt;
  }
  if (!starts_with_prefix_of(line, stanza_prefix) && !starts_with_prefix_of(line, mac_prefix)) {
    return errc::malformed_header;
  }
  for (char c : line) {
    if (c != ' ' && !is_vchar(c)) return errc::malformed_header;
  }
  return std::nullopt;
}

std::optional<errc> check_partial_body_line(std::string_view line) {
  if (line.size() > columns_per_line) return errc::malformed_header;
  for (char c : line) {
    if (!is_base64_char(c)) return errc::malformed_header;
  }
  return std::nullopt;
}

// Body lines after an arg line: full 64-column lines, then one shorter line.
result<std::optional<std::vector<std::uint8_t>>> parse_body(line_cursor& lines) {
  std::vector<std::uint8_t> body;
  std::uint8_t decoded[base64_decoded_capacity(columns_per_line)];
  for (;;) {
    const auto line = lines.next();
    if (!line) {
      if (auto e = check_partial_body_line(lines.partial())) return make_error_code(*e);
      return std::optional<std::vector<std::uint8_t>>();
    }
    if (line->size() > columns_per_line) return make_error_code(errc::malformed_header);
    const auto n = base64_decode_into(*line, /*padded=*/false, decoded);
    if (!n) return make_error_code(errc::malformed_header);
    body.insert(body.end(), decoded, decoded + *n);
    if (line->size() < columns_per_line) return std::optional(std::move(body));
  }
}

}  // namespace

result<std::optional<header>> parse_header(std::span<const std::uint8_t> data) {
  line_cursor lines(as_text(data));
  const auto first = lines.next();
  if (auto e = check_version(first.value_or(lines.partial()), first.has_value())) return fail(*e);
  if (!first) return need_more();

  header h;
  for (;;) {
    const std::size_t line_start = lines.pos();
    const auto line = lines.next();
    if (!line) {
      if (auto e = check_partial_line(lines.partial(), !h.stanzas.empty())) return fail(*e);
      return need_more();
    }
    if (line->starts_with(mac_prefix)) {
      // "--- " and the canonical base64 of 32 bytes; at least one stanza before.
      if (h.stanzas.empty() || line->size() != mac_line_size || (*line)[3] != ' ') {
        return fail(errc::malformed_header);
      }
      const auto mac = base64_decode(line->substr(4), /*padded=*/false);
      if (!mac || mac->size() != h.mac.size()) return fail(errc::malformed_header);
      std::copy(mac->begin(), mac->end(), h.mac.begin());
      h.mac_input_size = line_start + mac_prefix.size();
      h.size = lines.pos();
      return std::optional(std::move(h));
    }
    if (!line->starts_with(stanza_prefix)) return fail(errc::malformed_header);
    auto args = split_arguments(line->substr(stanza_prefix.size()));
    if (!args) return fail(errc::malformed_header);
    auto body = parse_body(lines);
    if (!body) return body.error();
    if (!*body) return need_more();
    h.stanzas.push_back(stanza{
        .type = std::move(args->front()),
        .args = {std::make_move_iterator(args->begin() + 1), std::make_move_iterator(args->end())},
        .body = std::move(**body)});
  }
}

bool is_valid_stanza(const stanza& s) {
  auto valid = [](const std::string& arg) {
    return !arg.empty() && std::all_of(arg.begin(), arg.end(), is_vchar);
  };
  return valid(s.type) && std::all_of(s.args.begin(), s.args.end(), valid);
}

std::string encode_header_without_mac(std::span<const stanza> stanzas) {
  std::string out(version_line);
  for (const auto& s : stanzas) {
    out += stanza_prefix;
    out += s.type;
    for (const auto& arg : s.args) {
      out += ' ';
      out += arg;
    }
    out += '\n';
    // Full lines, then a last line shorter than 64 columns, possibly empty.
    const auto body = base64_encode(s.body, /*padded=*/false);
    std::size_t i = 0;
    for (; i + columns_per_line <= body.size(); i += columns_per_line) {
      out.append(body, i, columns_per_line);
      out += '\n';
    }
    out.append(body, i);
    out += '\n';
  }
  out += mac_prefix;
  return out;
}

std::string encode_mac_line(std::span<const std::uint8_t, 32> mac) {
  // Appended piecewise: GCC 12 reports a false -Wrestrict on " " + string.
  std::string line(" ");
  line += base64_encode(mac, /*padded=*/false);
  line += '\n';
  return line;
}

}  // namespace valise::crypto::detail
