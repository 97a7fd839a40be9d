// The built-in redaction rules, as data: which pattern, what replaces it, and
// the trigger words one of which every match contains (none: the rule runs
// over all of the text). Several specs may share a name; the manifest counts
// by name. Private keys are not here: redactor.cpp handles PEM blocks itself.
#pragma once

#include <string>
#include <vector>

namespace valise::agent::redact::detail {

// What must surround a trigger word for its rule to stand a chance: checked
// in plain code before the line goes to RE2 (most trigger words in logs,
// "publickey", "Failed password for", are not secrets).
enum class context_check {
  assignment,    // word, [\w.-]*, optional quote, spaces, then ':' or '='
  key_suffix,    // the same, and "key" follows '_', '-' or "api"
  url_userinfo,  // "://" then, before any space, an '@'
  blank_after,   // the word, then a space or tab
  email_at,      // '@' between an address character and a domain character
};

struct trigger {
  std::string word;  // lower case
  context_check check;
};

struct rule_spec {
  std::string name;
  std::string pattern;
  std::string replacement;
  std::vector<trigger> triggers;
};

// Whether `check` holds for a trigger word at [at, at + size) of a line
// [line, line_end).
bool plausible(context_check check, const char* line, const char* at, std::size_t size,
               const char* line_end);

std::vector<rule_spec> default_rules(bool secrets, bool emails, bool ips);

// Words that start a private-key block ("-----BEGIN ... PRIVATE KEY-----").
inline constexpr const char* pem_trigger = "-----begin";

}  // namespace valise::agent::redact::detail
