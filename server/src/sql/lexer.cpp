#include "sql/lexer.hpp"

#include <cctype>

namespace valise::server::sql {
namespace {

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// The end of a quoted run starting at `from` (on the opening quote); a
// doubled closing quote is part of the run. Unterminated: the end of `s`.
std::size_t quoted_end(std::string_view s, std::size_t from, char close) {
  std::size_t i = from + 1;
  while (i < s.size()) {
    if (s[i] == close) {
      if (close != ']' && i + 1 < s.size() && s[i + 1] == close) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    ++i;
  }
  return s.size();
}

}  // namespace

std::vector<token> tokenize(std::string_view s) {
  std::vector<token> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    const char next = i + 1 < s.size() ? s[i + 1] : '\0';
    std::size_t end = i + 1;
    token_kind kind = token_kind::symbol;
    if (std::isspace(static_cast<unsigned char>(c))) {
      kind = token_kind::space;
      while (end < s.size() && std::isspace(static_cast<unsigned char>(s[end]))) ++end;
    } else if (c == '-' && next == '-') {
      kind = token_kind::comment;
      end = s.find('\n', i);
      if (end == std::string_view::npos) end = s.size();
    } else if (c == '/' && next == '*') {
      kind = token_kind::comment;
      end = s.find("*/", i + 2);
      end = end == std::string_view::npos ? s.size() : end + 2;
    } else if (c == '\'') {
      kind = token_kind::string;
      end = quoted_end(s, i, '\'');
    } else if ((c == 'x' || c == 'X') && next == '\'') {
      kind = token_kind::string;
      end = quoted_end(s, i + 1, '\'');
    } else if (c == '"' || c == '`') {
      kind = token_kind::identifier;
      end = quoted_end(s, i, c);
    } else if (c == '[') {
      kind = token_kind::identifier;
      end = quoted_end(s, i, ']');
    } else if (c == '?') {
      kind = token_kind::parameter;
      while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end]))) ++end;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      kind = token_kind::number;
      while (end < s.size() && (is_word_char(s[end]) || s[end] == '.')) ++end;
    } else if (is_word_char(c)) {
      kind = token_kind::word;
      while (end < s.size() && is_word_char(s[end])) ++end;
    }
    out.push_back({kind, s.substr(i, end - i)});
    i = end;
  }
  return out;
}

}  // namespace valise::server::sql
