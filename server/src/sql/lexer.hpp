// Splits SQL text into tokens by SQLite's lexical rules, as far as the
// dialect rewrites need them: a string, a quoted identifier or a comment is
// one token, so that no rewrite ever looks inside one (internal to sql/).
#pragma once

#include <string_view>
#include <vector>

namespace valise::server::sql {

enum class token_kind {
  space,
  comment,     // -- … or /* … */
  string,      // '…' and x'…'
  identifier,  // "…", `…` or […]
  word,        // a keyword or a bare name
  number,
  parameter,  // ? or ?NNN
  symbol,     // any other single character
};

struct token {
  token_kind kind;
  std::string_view text;
};

std::vector<token> tokenize(std::string_view sql);

}  // namespace valise::server::sql
