#include "header.hpp"

#include "encoding.hpp"

namespace valise::crypto::detail {
namespace {

constexpr std::size_t columns = 64;

bool is_vchar(char c) {
  return c >= 0x21 && c <= 0x7e;
}

std::error_code malformed() {
  return make_error_code(errc::malformed_header);
}

// Splits "a b c" on single spaces; nullopt on empty arguments or non-VCHAR.
std::optional<std::vector<std::string>> split_arguments(std::string_view text) {
  std::vector<std::string> args;
  std::size_t start = 0;
  for (;;) {
    const auto end = text.find(' ', start);
    const auto arg = text.substr(start, end == std::string_view::npos ? text.npos : end - start);
    if (arg.empty()) return std::nullopt;
    for (char c : arg) {
      if (!is_vchar(c)) return std::nullopt;
    }
    args.emplace_back(arg);
    if (end == std::string_view::npos) return args;
    start = end + 1;
  }
}

}  // namespace

std::optional<std::size_t> find_header_end(std::string_view data) {
  std::size_t line_start = 0;
  for (;;) {
    const auto lf = data.find('\n', line_start);
    if (lf == std::string_view::npos) return std::nullopt;
    if (data.substr(line_start, 3) == "---") return lf + 1;
    line_start = lf + 1;
  }
}

result<parsed_header> parse_header(std::string_view data) {
  if (data.substr(0, version_prefix.size()) != version_prefix) {
    return make_error_code(errc::not_age_file);
  }
  if (data.substr(0, version_line.size()) != version_line) {
    return make_error_code(errc::unsupported_version);
  }
  parsed_header header;
  std::size_t pos = version_line.size();
  auto next_line = [&](std::string_view& line) {
    const auto lf = data.find('\n', pos);
    if (lf == std::string_view::npos) return false;
    line = data.substr(pos, lf - pos);
    pos = lf + 1;
    return true;
  };
  std::string_view line;
  for (;;) {
    if (!next_line(line)) return malformed();
    if (line.substr(0, 3) == "-> ") {
      auto args = split_arguments(line.substr(3));
      if (!args) return malformed();
      stanza s{.type = (*args)[0], .args = {args->begin() + 1, args->end()}, .body = {}};
      std::string body_text;
      for (;;) {
        if (!next_line(line)) return malformed();
        if (line.size() > columns) return malformed();
        body_text += line;
        if (line.size() < columns) break;
      }
      auto body = base64_decode(body_text, /*padded=*/false);
      if (!body) return malformed();
      s.body = std::move(*body);
      header.stanzas.push_back(std::move(s));
      continue;
    }
    if (line.substr(0, 3) == "---") {
      if (header.stanzas.empty() || line.size() != 4 + 43 || line[3] != ' ') return malformed();
      auto mac = base64_decode(line.substr(4), /*padded=*/false);
      if (!mac || mac->size() != 32) return malformed();
      std::copy(mac->begin(), mac->end(), header.mac.begin());
      header.mac_input_size = pos - line.size() - 1 + 3;
      header.size = pos;
      if (pos != data.size()) return malformed();
      return header;
    }
    return malformed();
  }
}

std::string encode_header_without_mac(std::span<const stanza> stanzas) {
  std::string out(version_line);
  for (const auto& s : stanzas) {
    out += "-> ";
    out += s.type;
    for (const auto& arg : s.args) {
      out += ' ';
      out += arg;
    }
    out += '\n';
    const auto body = base64_encode(s.body, /*padded=*/false);
    // Full lines, then a final line shorter than 64 columns (possibly empty).
    std::size_t i = 0;
    for (; i + columns <= body.size(); i += columns) {
      out.append(body, i, columns);
      out += '\n';
    }
    out.append(body, i);
    out += '\n';
  }
  out += "---";
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
