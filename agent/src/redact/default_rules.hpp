// The built-in redaction rules: secrets (key = value, URL credentials,
// bearer tokens) and e-mail addresses as plain code around trigger words, IP
// addresses as RE2 patterns. Several specs may share a name; the manifest counts by
// name. PEM blocks are the redactor's own state (redactor.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace valise::agent::redact::detail {

// Kinds of trigger word. The built-in secret rules are plain code (see
// find_secret): on the benchmark corpus RE2 over the lines that hold trigger
// words ran at ~200 MB/s, these at several times that.
enum class context_check {
  assignment,     // KEY: word, [\w.-]*, optional quote, spaces, ':' or '=', value
  key_suffix,     // the same, where "key" follows '_', '-' or "api"
  url_userinfo,   // scheme://user:PASSWORD@
  bearer,         // Bearer TOKEN (8 characters at least)
  authorization,  // Authorization: [Bearer|Basic|Token|Digest|Negotiate] TOKEN
  email_at,       // local@domain.tld
  pem_begin,      // -----BEGIN ... PRIVATE KEY-----: the redactor's own state
};

struct trigger {
  std::string word;  // lower case
  context_check check;
  const char* rule;  // the rule name counted
};

// An RE2 rule, run over all of the text.
struct rule_spec {
  std::string name;
  std::string pattern;
  std::string replacement;
};

// The RE2 rules among the defaults (IP addresses).
std::vector<rule_spec> default_rules(bool ips);
// The trigger words of the built-in rules (secrets and private keys, e-mail).
std::vector<trigger> builtin_triggers(bool secrets, bool emails);

struct span {
  const char* begin;
  const char* end;
};
// The secret that a built-in rule finds around a trigger word at [at, at +
// size) of the line [line, end), or nullopt. Pure.
std::optional<span> find_secret(context_check check, const char* line, const char* at,
                                std::size_t size, const char* end);

}  // namespace valise::agent::redact::detail
