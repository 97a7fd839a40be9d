// Redaction: a streaming transform that replaces secrets in text before it is
// stored. Pure: bytes in, bytes out to a byte_sink, no files.
//
// Rules are RE2 patterns matched over bytes (Latin-1 mode: any byte is a
// character, so binary input and UTF-8 both pass), within one line (a match
// never includes '\n'; ^ and $ are line anchors). Private-key PEM blocks are
// handled by a built-in stateful rule, across lines and writes. The default
// rules run only on lines that contain one of their literal trigger words
// (found by a vectorised scan), so text without secrets costs a scan; the
// profile's own rules and the IP rules run over all of the text.
#pragma once

#include <boost/system/result.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/agent_config.hpp"
#include "valise/crypto/io.hpp"

namespace valise::agent::redact {

// Names of the built-in rules, as the manifest reports them.
inline constexpr const char* secret_assignment = "secret-assignment";
inline constexpr const char* url_credentials = "url-credentials";
inline constexpr const char* bearer_token = "bearer-token";
inline constexpr const char* private_key = "private-key";
inline constexpr const char* email = "email";
inline constexpr const char* ip_address = "ip-address";

// A rule the config loader can check on its own: nullopt if it compiles,
// else one line naming the rule ("redaction rule 'x': missing ): ...").
std::optional<std::string> validate(const redaction_rule& rule);

// The compiled rules of one profile, shared (read-only) by its redactors.
class rule_set {
 public:
  static boost::system::result<rule_set, std::string> compile(const profile& p);
  static boost::system::result<rule_set, std::string> compile(
      const std::vector<redaction_rule>& own, bool defaults, bool emails, bool ips);
  rule_set(rule_set&&) noexcept;
  rule_set& operator=(rule_set&&) noexcept;
  ~rule_set();
  bool empty() const;

  struct impl;

 private:
  explicit rule_set(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
  friend class redactor;
};

struct redactor_limits {
  // A longer line is cut, preferably at a space or separator in its last
  // 4 KiB, and each piece redacted as a line of its own.
  std::size_t max_line = 1 << 20;
  // Output is handed on in pieces of about this size.
  std::size_t flush_at = 256 * 1024;
};

// Redacts what is written to it into `out`; call finish() at the end of the
// stream. Buffers that held plaintext are wiped before they are freed.
class redactor final : public crypto::byte_sink {
 public:
  redactor(const rule_set& rules, crypto::byte_sink& out, redactor_limits limits = {});
  ~redactor() override;
  redactor(const redactor&) = delete;
  redactor& operator=(const redactor&) = delete;

  result<void> write(crypto::bytes data) override;
  result<void> finish();
  // Replacements so far, by rule name (only rules that fired).
  std::map<std::string, std::uint64_t> counts() const;

 private:
  struct state;
  std::unique_ptr<state> s_;
};

// The whole of `text` through a fresh redactor (tests, small outputs).
std::string redact_text(const rule_set& rules, std::string_view text,
                        std::map<std::string, std::uint64_t>* counts = nullptr);

}  // namespace valise::agent::redact
