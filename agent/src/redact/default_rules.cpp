#include "redact/default_rules.hpp"

#include <array>
#include <cstdint>
#include <string_view>

#include "redact/redactor.hpp"
#include "valise/common/ascii.hpp"

namespace valise::agent::redact::detail {
namespace {

// Character classes by table: these run on every byte around a trigger
// word, where <cctype> calls and strchr cost a tenth of the redactor's time.
enum char_class : std::uint8_t {
  alnum = 1,       // [A-Za-z0-9]
  alpha = 2,       // [A-Za-z]
  word_more = 4,   // _ . -
  token_more = 8,  // . _ ~ + / - and NUL (the first version's strchr matched its terminator)
  value_end = 16,  // what ends an unquoted value: spaces, " ' , ; & and NUL
  email_more = 32  // % +
};
constexpr std::array<std::uint8_t, 256> char_classes = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (letter) t[c] |= alpha | alnum;
    if (c >= '0' && c <= '9') t[c] |= alnum;
  }
  for (unsigned char c : std::string_view("_.-")) t[c] |= word_more;
  for (unsigned char c : std::string_view("._~+/-\0", 7)) t[c] |= token_more;
  for (unsigned char c : std::string_view(" \t\r\n\v\f\"',;&\0", 13)) t[c] |= value_end;
  for (unsigned char c : std::string_view("%+")) t[c] |= email_more;
  return t;
}();
bool is(char c, unsigned classes) {
  return (char_classes[static_cast<unsigned char>(c)] & classes) != 0;
}

// [A-Za-z0-9_.-]: identifiers such as db_password, smtp.password, X-Api-Key.
bool word_char(char c) {
  return is(c, alnum | word_more);
}
bool blank(char c) {
  return c == ' ' || c == '\t';
}
bool space(char c) {
  return blank(c) || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}
// Characters of a token: [A-Za-z0-9._~+/-]
bool token_char(char c) {
  return is(c, alnum | token_more);
}
bool starts_word(const char* line, const char* at) {
  return at == line || !(is(at[-1], alnum) || at[-1] == '_');
}
bool iequals(const char* p, const char* end, std::string_view word) {
  if (static_cast<std::size_t>(end - p) < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if (common::ascii_lower(p[i]) != word[i]) return false;
  return true;
}

// From the separator on: [quote] blanks (':' | '=') blanks, then the value:
// a quoted string (to its closing quote, or to the end of the line if it has
// none), or a run of characters other than space, quotes and , ; &.
std::optional<span> value_after(const char* p, const char* end) {
  if (p < end && (*p == '"' || *p == '\'')) ++p;
  while (p < end && blank(*p)) ++p;
  if (p == end || (*p != ':' && *p != '=')) return std::nullopt;
  ++p;
  while (p < end && blank(*p)) ++p;
  if (p < end && (*p == '"' || *p == '\'')) {
    const char quote = *p++;
    const char* v = p;
    while (p < end && *p != quote && *p != '\n' && *p != '\r')
      p += *p == '\\' && p + 1 < end ? 2 : 1;
    if (p > end) p = end;
    return v == p ? std::nullopt : std::optional<span>({v, p});
  }
  const char* v = p;
  while (p < end && !is(*p, value_end)) ++p;
  return v == p ? std::nullopt : std::optional<span>({v, p});
}

}  // namespace

std::vector<trigger> builtin_triggers(bool secrets, bool emails) {
  using enum context_check;
  std::vector<trigger> out;
  if (emails) out.push_back({"@", email_at, email});
  if (!secrets) return out;
  // Every secret key name contains one of these: pass (password, passwd,
  // passphrase), pwd, secret (client_secret), token, key (api_key, apikey,
  // access_key, private-key), credential.
  out.insert(out.end(), {{"pass", assignment, secret_assignment},
                         {"pwd", assignment, secret_assignment},
                         {"secret", assignment, secret_assignment},
                         {"token", assignment, secret_assignment},
                         {"key", key_suffix, secret_assignment},
                         {"credential", assignment, secret_assignment},
                         {"://", url_userinfo, url_credentials},
                         {"bearer", bearer, bearer_token},
                         {"authorization", authorization, bearer_token},
                         {"-----begin", pem_begin, private_key}});
  return out;
}

std::optional<span> find_secret(context_check check, const char* line, const char* at,
                                std::size_t size, const char* end) {
  const char* after = at + size;
  switch (check) {
    case context_check::key_suffix: {
      const bool after_separator = at > line && (at[-1] == '_' || at[-1] == '-');
      const bool after_api = at - line >= 3 && iequals(at - 3, end, "api");
      if (!after_separator && !after_api) return std::nullopt;
      [[fallthrough]];
    }
    case context_check::assignment: {
      // "PWD" alone is the working directory in sudo and shell logs; DB_PWD is not.
      if (std::string_view(at, size) == "PWD" && (at == line || !word_char(at[-1])))
        return std::nullopt;
      while (after < end && word_char(*after)) ++after;
      return value_after(after, end);
    }
    case context_check::url_userinfo: {
      // user: [^\s:/@]*, then ':', then the password up to the '@'.
      const char* p = after;
      while (p < end && !space(*p) && *p != ':' && *p != '/' && *p != '@') ++p;
      if (p == end || *p != ':' || at == line || !is(at[-1], alpha)) return std::nullopt;
      const char* v = ++p;
      while (p < end && !space(*p) && *p != '@') ++p;
      if (p == end || *p != '@' || p == v) return std::nullopt;
      return span{v, p};
    }
    case context_check::bearer: {
      if (!starts_word(line, at)) return std::nullopt;
      const char* p = after;
      while (p < end && blank(*p)) ++p;
      if (p == after) return std::nullopt;
      const char* v = p;
      while (p < end && token_char(*p)) ++p;
      if (p - v < 8) return std::nullopt;
      while (p < end && *p == '=') ++p;
      return span{v, p};
    }
    case context_check::authorization: {
      if (!starts_word(line, at)) return std::nullopt;
      const char* p = after;
      if (p < end && (*p == '"' || *p == '\'')) ++p;
      while (p < end && blank(*p)) ++p;
      if (p == end || (*p != ':' && *p != '=')) return std::nullopt;
      ++p;
      while (p < end && blank(*p)) ++p;
      if (p < end && (*p == '"' || *p == '\'')) ++p;
      for (std::string_view scheme : {"bearer", "basic", "token", "digest", "negotiate"}) {
        if (iequals(p, end, scheme) && p + scheme.size() < end && blank(p[scheme.size()])) {
          p += scheme.size();
          while (p < end && blank(*p)) ++p;
          break;
        }
      }
      const char* v = p;
      while (p < end && token_char(*p)) ++p;
      if (p == v) return std::nullopt;
      while (p < end && *p == '=') ++p;
      return span{v, p};
    }
    case context_check::email_at: {
      // [A-Za-z0-9._%+-]+ @ [A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}
      const char* b = at;
      while (b > line && is(b[-1], alnum | word_more | email_more)) --b;
      const char* e = after;
      while (e < end && (is(*e, alnum) || *e == '.' || *e == '-')) ++e;
      // Letters only after the last dot, at least two, and a label before it.
      while (e > after && (e[-1] == '.' || e[-1] == '-')) --e;
      const char* tld = e;
      while (tld > after && is(tld[-1], alpha)) --tld;
      if (b == at || e - tld < 2 || tld - after < 2 || tld[-1] != '.') return std::nullopt;
      return span{b, e};
    }
    case context_check::pem_begin:
      break;
  }
  return std::nullopt;
}

std::vector<rule_spec> default_rules(bool ips) {
  std::vector<rule_spec> rules;
  if (ips) {
    constexpr const char* octet = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
    rules.push_back({ip_address,
                     std::string(R"re(\b(?:)re") + octet + R"re(\.){3})re" + octet + R"re(\b)re",
                     "[REDACTED]"});
    // Eight groups, or a "::" form; not MAC addresses, times or C++ "a::b".
    rules.push_back({ip_address,
                     R"re((?i)(^|[^\w:.])((?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4})re"
                     R"re(|(?:[0-9a-f]{1,4}:){1,7}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?)re"
                     R"re(|::[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6}))re",
                     R"(\1[REDACTED])"});
  }
  return rules;
}

}  // namespace valise::agent::redact::detail
