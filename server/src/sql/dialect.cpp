#include "sql/dialect.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <vector>

#include "sql/lexer.hpp"
#include "valise/common/ascii.hpp"

namespace valise::server::sql {
namespace {

bool is(const token& t, std::string_view word) {
  return t.kind == token_kind::word && common::ascii_iequals(t.text, word);
}

bool is_symbol(const token& t, char c) {
  return t.kind == token_kind::symbol && t.text.size() == 1 && t.text[0] == c;
}

// Words PostgreSQL reserves that SQLite takes as names (only `user` is used).
constexpr std::array reserved_in_postgresql{"user",         "current_user", "session_user",
                                            "current_role", "analyse",      "analyze"};

// Words that may follow a FROM subquery where an alias is not.
constexpr std::array after_from{"where",     "group",  "order",  "limit",    "union", "except",
                                "intersect", "join",   "left",   "inner",    "cross", "on",
                                "having",    "window", "offset", "returning"};

// The script as tokens, each with the text it renders to.
struct rewrite {
  std::vector<token> tokens;
  std::vector<std::string> out;
  std::vector<std::string> after;  // text added after a token
  std::vector<std::size_t> sig;    // indices of tokens other than space and comments

  explicit rewrite(std::string_view script) : tokens(tokenize(script)) {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      out.emplace_back(tokens[i].text);
      after.emplace_back();
      if (tokens[i].kind != token_kind::space && tokens[i].kind != token_kind::comment)
        sig.push_back(i);
    }
  }
  const token& at(std::size_t k) const { return tokens[sig[k]]; }
  std::string& text(std::size_t k) { return out[sig[k]]; }
  void append(std::size_t k, std::string_view s) { after[sig[k]] += s; }
  // The significant token closing the parenthesis opened at k.
  std::optional<std::size_t> closing(std::size_t k) const {
    int depth = 0;
    for (std::size_t j = k; j < sig.size(); ++j) {
      if (is_symbol(at(j), '(')) ++depth;
      if (is_symbol(at(j), ')') && --depth == 0) return j;
    }
    return std::nullopt;
  }
  // Removes significant token k and the space before it.
  void drop(std::size_t k) {
    out[sig[k]].clear();
    if (sig[k] > 0 && tokens[sig[k] - 1].kind == token_kind::space) out[sig[k] - 1].clear();
  }
  std::string joined() const {
    std::string s;
    for (std::size_t i = 0; i < out.size(); ++i) s += out[i] + after[i];
    return s;
  }
};

// COLLATE NOCASE at k: the column's type (the word after its name) becomes
// CITEXT. The column starts after the nearest `(` or `,` at this depth, or
// after ADD [COLUMN].
bool nocase_column(rewrite& r, std::size_t k) {
  int depth = 0;
  std::size_t j = k;
  while (j-- > 0) {
    const token& t = r.at(j);
    if (is_symbol(t, ')')) ++depth;
    if (is_symbol(t, '(') && depth-- == 0) break;
    if (depth == 0 && (is_symbol(t, ',') || is(t, "column") || is(t, "add"))) break;
    if (j == 0) return false;
  }
  if (j + 1 >= k) return false;  // no column name
  const std::size_t type = j + 2;
  if (type < k && (is(r.at(type), "text") || is(r.at(type), "citext"))) {
    r.text(type) = "CITEXT";
  } else {
    r.text(j + 1) += " CITEXT";  // a column without a type
  }
  return true;
}

// Whether the word at k is a column's type: it follows the column's name,
// which starts a column definition.
bool declares_type(const rewrite& r, std::size_t k) {
  if (k < 2) return false;
  const token& name = r.at(k - 1);
  const token& before = r.at(k - 2);
  return (name.kind == token_kind::word || name.kind == token_kind::identifier) &&
         (is_symbol(before, '(') || is_symbol(before, ',') || is(before, "column") ||
          is(before, "add"));
}

}  // namespace

numbered_statement postgresql_parameters(std::string_view sqlite_sql) {
  numbered_statement result;
  for (const auto& t : tokenize(sqlite_sql)) {
    if (t.kind != token_kind::parameter) {
      result.text += t.text;
      continue;
    }
    int n = result.parameters + 1;
    if (t.text.size() > 1) std::from_chars(t.text.data() + 1, t.text.data() + t.text.size(), n);
    result.parameters = std::max(result.parameters, n);
    result.text += '$';
    result.text += std::to_string(n);
  }
  return result;
}

std::string postgresql_ddl(std::string_view sqlite_script) {
  rewrite r(sqlite_script);
  bool citext = false;
  int subqueries = 0;
  for (std::size_t k = 0; k < r.sig.size(); ++k) {
    const token& t = r.at(k);
    const bool after_dot = k > 0 && is_symbol(r.at(k - 1), '.');
    if (is(t, "integer")) {
      // SQLite's INTEGER PRIMARY KEY is the rowid, filled in when an insert
      // leaves it out: so is an identity column.
      const bool rowid_alias = k + 2 < r.sig.size() && is(r.at(k + 1), "primary") &&
                               is(r.at(k + 2), "key") &&
                               !(k + 3 < r.sig.size() && is(r.at(k + 3), "autoincrement"));
      r.text(k) = rowid_alias ? "BIGINT GENERATED BY DEFAULT AS IDENTITY" : "BIGINT";
    } else if (is(t, "text") && declares_type(r, k)) {
      // SQLite compares and sorts text byte by byte (BINARY): so does "C",
      // whatever the database's locale.
      r.text(k) = "TEXT COLLATE \"C\"";
    } else if (is(t, "blob")) {
      r.text(k) = "BYTEA";
    } else if (is(t, "real")) {
      r.text(k) = "DOUBLE PRECISION";
    } else if (is(t, "autoincrement")) {
      r.text(k) = "GENERATED BY DEFAULT AS IDENTITY";
    } else if (!after_dot &&
               std::any_of(reserved_in_postgresql.begin(), reserved_in_postgresql.end(),
                           [&](const char* w) { return is(t, w); })) {
      r.text(k) = "\"" + std::string(t.text) + "\"";
    } else if (is(t, "collate") && k + 1 < r.sig.size() && is(r.at(k + 1), "nocase")) {
      if (nocase_column(r, k)) {
        r.drop(k);
        r.drop(k + 1);
        citext = true;
      }
    } else if (is(t, "create") && k + 2 < r.sig.size() && is(r.at(k + 1), "table")) {
      // CREATE TABLE name ( … ) [WITHOUT ROWID]
      std::size_t open = k + 2;
      while (open < r.sig.size() && !is_symbol(r.at(open), '(')) ++open;
      auto close = open < r.sig.size() ? r.closing(open) : std::nullopt;
      if (!close) continue;
      if (*close + 2 < r.sig.size() && is(r.at(*close + 1), "without") &&
          is(r.at(*close + 2), "rowid")) {
        r.drop(*close + 1);
        r.drop(*close + 2);
      } else {
        r.append(*close - 1, ",\n  rowid BIGINT GENERATED BY DEFAULT AS IDENTITY");
      }
    } else if (is(t, "from") && k + 1 < r.sig.size() && is_symbol(r.at(k + 1), '(')) {
      auto close = r.closing(k + 1);
      if (!close) continue;
      const bool aliased = *close + 1 < r.sig.size() &&
                           (r.at(*close + 1).kind == token_kind::identifier ||
                            (r.at(*close + 1).kind == token_kind::word &&
                             std::none_of(after_from.begin(), after_from.end(),
                                          [&](const char* w) { return is(r.at(*close + 1), w); })));
      if (!aliased) r.append(*close, " AS subquery_" + std::to_string(++subqueries));
    }
  }
  std::string out = r.joined();
  if (citext) out = "CREATE EXTENSION IF NOT EXISTS citext;\n" + out;
  return out;
}

}  // namespace valise::server::sql
