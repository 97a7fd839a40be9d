// The agent's configuration (/etc/valise/agent.toml), parsed into plain data.
// Profiles live only here: a remote request names one, and this file alone
// decides what it collects and whether a remote request may use it. Every key
// and its default is documented in docs/agent.md.
#pragma once

#include <boost/system/result.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace valise::agent {

struct command_spec {
  std::string name;               // archive name: commands/<name>.txt
  std::vector<std::string> argv;  // argv[0] is an absolute path or looked up in a fixed PATH
  std::chrono::seconds timeout{30};
};

struct redaction_rule {
  std::string name;                        // reported in the manifest
  std::string pattern;                     // RE2 syntax, matched within one line
  std::string replacement = "[REDACTED]";  // may use \1.. for groups kept
};

enum class approval_mode { automatic, operator_approval };

struct profile {
  std::string name;
  std::string description;
  bool remote = false;  // may a remote (server) request use it?
  approval_mode approval = approval_mode::automatic;

  std::vector<std::string> files;           // absolute globs; rotated logs included by the glob
  std::vector<std::string> exclude;         // globs removed from the matches
  std::vector<std::string> journal_units;   // empty and journal=false: no journal
  bool journal_all = false;                 // journal = true: every unit
  int journal_max_priority = 6;             // 0 emerg .. 7 debug; entries at or above
  std::filesystem::path journal_directory;  // empty: the system journal
  std::vector<command_spec> commands;
  std::uint64_t command_output_bytes = 1u << 20;
  bool facts = true;
  std::vector<std::string> services;  // units whose state the facts report

  std::uint64_t max_file_bytes = 64ull << 20;      // keeps the newest part
  std::uint64_t max_bundle_bytes = 1024ull << 20;  // of collected (plaintext) bytes

  bool redact_defaults = true;  // passwords, URL credentials, bearer tokens, private keys
  bool redact_emails = false;
  bool redact_ips = false;
  std::vector<redaction_rule> redact;
};

struct delivery_config {
  std::vector<std::string> recipients;  // pinned age1... keys; a request may choose among them
  std::vector<std::string> notifier;    // argv; gets the passphrase on stdin
  bool local_passphrase_file = false;   // else: state_dir/passphrases/<job>, root-only
  std::chrono::seconds passphrase_file_ttl{3600};
  std::chrono::seconds notifier_timeout{30};
};

struct agent_config {
  std::filesystem::path source;  // the file it was read from
  std::string server;            // https://host:port
  std::filesystem::path state_dir = "/var/lib/valise-agent";
  std::filesystem::path spool_dir;  // empty: state_dir/spool
  std::uint64_t spool_max_bytes = 4ull << 30;
  std::chrono::seconds spool_max_age{7 * 24 * 3600};
  std::filesystem::path control_socket = "/run/valise-agent/control.sock";
  std::string proxy;  // http://[user:pass@]host:port; empty: https_proxy from the environment
  std::chrono::seconds poll_timeout{50};
  std::chrono::seconds heartbeat_interval{300};
  std::chrono::seconds backoff_max{300};
  delivery_config delivery;
  std::map<std::string, profile> profiles;

  std::filesystem::path spool() const {
    return spool_dir.empty() ? state_dir / "spool" : spool_dir;
  }
  // Names of the profiles remote requests may use (told to the server).
  std::vector<std::string> remote_profiles() const;
};

// A configuration problem is a sentence for the operator ("agent.toml:12:
// ..."), not a code: there is nothing for a caller to branch on. Unknown keys
// are errors, so a typo does not silently keep a default.
using config_result = boost::system::result<agent_config, std::string>;
config_result load_config(const std::filesystem::path& file);
// The same from the file's text; `file` names it in messages.
config_result parse_config(std::string_view text, const std::filesystem::path& file);

}  // namespace valise::agent
