#include "redact/default_rules.hpp"

#include <cctype>

#include "redact/redactor.hpp"

namespace valise::agent::redact::detail {
namespace {

// Key names whose value is a secret, inside any identifier (db_password,
// smtp.password, X-Api-Key, client_secret). "PWD" alone is left out: it is
// the working directory in sudo and shell logs, not a password (DB_PWD is).
constexpr const char* secret_key =
    R"re((?:(?i:password|passwd|passphrase|pass|secret|token|api[_-]?key|access[_-]?key|)re"
    R"re(private[_-]?key|credentials?)|p[wW][dD]|P(?:w[dD]|Wd)|[_.-]PWD))re";
// Up to the separator, any opening quote included: kept as it is.
const std::string key_part =
    std::string(R"re(\b[\w.-]*)re") + secret_key + R"re([\w.-]*["']?\s*[:=]\s*)re";

}  // namespace

std::vector<rule_spec> default_rules(bool secrets, bool emails, bool ips) {
  std::vector<rule_spec> rules;
  using enum context_check;
  const std::vector<trigger> key_triggers{{"pass", assignment},   {"pwd", assignment},
                                          {"secret", assignment}, {"token", assignment},
                                          {"key", key_suffix},    {"credential", assignment}};
  if (secrets) {
    // "password": "x y" (JSON, quoted values with spaces), then password=x,
    // password: x (up to a space, quote or separator).
    rules.push_back({secret_assignment, "(" + key_part + R"re(")(?:[^"\\]|\\.)+("))re",
                     R"(\1[REDACTED]\2)", key_triggers});
    rules.push_back({secret_assignment, "(" + key_part + R"re(')[^']+('))re", R"(\1[REDACTED]\2)",
                     key_triggers});
    rules.push_back({secret_assignment, "(" + key_part + R"re()[^\s"',;&]+)re", R"(\1[REDACTED])",
                     key_triggers});
    // scheme://user:PASSWORD@host
    rules.push_back({url_credentials,
                     R"re(([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s@]+(@))re",
                     R"(\1[REDACTED]\2)",
                     {{"://", url_userinfo}}});
    // Authorization: Bearer|Basic|... TOKEN, and a bare "Bearer TOKEN".
    rules.push_back({bearer_token,
                     R"re((?i)(\bauthorization["']?\s*[:=]\s*["']?)re"
                     R"re((?:(?:bearer|basic|token|digest|negotiate)\s+)?)[A-Za-z0-9._~+/-]+=*)re",
                     R"(\1[REDACTED])",
                     {{"authorization", assignment}}});
    rules.push_back({bearer_token,
                     R"re((?i)(\bbearer\s+)[A-Za-z0-9._~+/-]{8,}=*)re",
                     R"(\1[REDACTED])",
                     {{"bearer", blank_after}}});
  }
  if (emails) {
    rules.push_back({email,
                     R"re([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})re",
                     "[REDACTED]",
                     {{"@", email_at}}});
  }
  if (ips) {
    constexpr const char* octet = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
    rules.push_back({ip_address,
                     std::string(R"re(\b(?:)re") + octet + R"re(\.){3})re" + octet + R"re(\b)re",
                     "[REDACTED]",
                     {}});
    // Eight groups, or a "::" form; not MAC addresses, times or C++ "a::b".
    rules.push_back({ip_address,
                     R"re((?i)(^|[^\w:.])((?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4})re"
                     R"re(|(?:[0-9a-f]{1,4}:){1,7}:(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6})?)re"
                     R"re(|::[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){0,6}))re",
                     R"(\1[REDACTED])",
                     {}});
  }
  return rules;
}

namespace {

bool word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

}  // namespace

bool plausible(context_check check, const char* line, const char* at, std::size_t size,
               const char* end) {
  const char* p = at + size;
  switch (check) {
    case context_check::key_suffix: {
      const bool after_separator = at > line && (at[-1] == '_' || at[-1] == '-');
      const bool after_api = at - line >= 3 && (at[-3] | 0x20) == 'a' && (at[-2] | 0x20) == 'p' &&
                             (at[-1] | 0x20) == 'i';
      if (!after_separator && !after_api) return false;
      [[fallthrough]];
    }
    case context_check::assignment:
      while (p < end && word_char(*p)) ++p;
      if (p < end && (*p == '"' || *p == '\'')) ++p;
      while (p < end && (*p == ' ' || *p == '\t')) ++p;
      return p < end && (*p == ':' || *p == '=');
    case context_check::url_userinfo:
      for (; p < end && *p != ' ' && *p != '\t' && *p != '\n'; ++p) {
        if (*p == '@') return true;
      }
      return false;
    case context_check::blank_after:
      return p < end && (*p == ' ' || *p == '\t');
    case context_check::email_at:
      return at > line && p < end && (word_char(at[-1]) || at[-1] == '%' || at[-1] == '+') &&
             (std::isalnum(static_cast<unsigned char>(*p)) || *p == '-');
  }
  return false;
}

}  // namespace valise::agent::redact::detail
