#include "config/agent_config.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <set>

#include "redact/redactor.hpp"
#include "valise/common/file_io.hpp"
#include "valise/common/units.hpp"
#include "valise/crypto/age.hpp"

namespace valise::agent {
namespace {

struct problem {
  std::string text;
};

// One TOML table being read: remembers which keys were taken so that any key
// left over is reported as unknown (a typo must not silently keep a default).
class table_reader {
 public:
  table_reader(const std::filesystem::path& file, const toml::table& table, std::string prefix)
      : file_(file), table_(table), prefix_(std::move(prefix)) {}

  const toml::node* take(const char* key) {
    taken_.insert(key);
    return table_.get(key);
  }

  std::string where(const toml::node& node) const {
    return fmt::format("{}:{}", file_.string(), node.source().begin.line);
  }
  std::string name(const char* key) const { return prefix_ + key; }

  problem wrong(const toml::node& node, const char* key, std::string_view expected) const {
    return {fmt::format("{}: {}: expected {}", where(node), name(key), expected)};
  }

  // The first key nobody took, as a problem; nullopt if all were known.
  std::optional<problem> unknown_key(std::string_view see) const {
    for (auto&& [key, node] : table_)
      if (!taken_.contains(std::string(key.str())))
        return problem{
            fmt::format("{}: unknown setting {}{}: {}", where(node), prefix_, key.str(), see)};
    return std::nullopt;
  }

  const std::filesystem::path& file() const { return file_; }

 private:
  const std::filesystem::path& file_;
  const toml::table& table_;
  std::string prefix_;
  std::set<std::string, std::less<>> taken_;
};

using maybe_problem = std::optional<problem>;

maybe_problem read(table_reader& r, const char* key, std::string& out) {
  const auto* node = r.take(key);
  if (!node) return std::nullopt;
  auto v = node->value<std::string>();
  if (!v) return r.wrong(*node, key, "a string");
  out = *v;
  return std::nullopt;
}

maybe_problem read(table_reader& r, const char* key, std::filesystem::path& out) {
  std::string text;
  if (auto p = read(r, key, text)) return p;
  if (!text.empty()) out = text;
  return std::nullopt;
}

maybe_problem read(table_reader& r, const char* key, bool& out) {
  const auto* node = r.take(key);
  if (!node) return std::nullopt;
  auto v = node->value<bool>();
  if (!v) return r.wrong(*node, key, "true or false");
  out = *v;
  return std::nullopt;
}

// Sizes: an integer number of bytes, or a string such as "64M" or "2G".
maybe_problem read_size(table_reader& r, const char* key, std::uint64_t& out) {
  const auto* node = r.take(key);
  if (!node) return std::nullopt;
  // is_integer first: toml++ casts a float out of int64's range (undefined).
  if (auto n = node->is_integer() ? node->value<std::int64_t>() : std::nullopt; n && *n >= 0) {
    out = static_cast<std::uint64_t>(*n);
    return std::nullopt;
  }
  auto text = node->value<std::string>();
  auto size = text ? common::parse_size(*text) : std::nullopt;
  if (!size) return r.wrong(*node, key, "a size such as 1048576, \"512K\", \"64M\" or \"2G\"");
  out = *size;
  return std::nullopt;
}

// Durations: a string such as "90s", "15m", "12h" or "7d" (a bare integer is seconds).
maybe_problem read_duration(table_reader& r, const char* key, std::chrono::seconds& out) {
  const auto* node = r.take(key);
  if (!node) return std::nullopt;
  std::optional<std::uint64_t> seconds;
  if (node->is_integer()) {
    if (auto n = node->value<std::int64_t>();
        n && *n > 0 && static_cast<std::uint64_t>(*n) <= common::max_duration_seconds)
      seconds = *n;
  } else if (auto text = node->value<std::string>()) {
    seconds = common::parse_duration(*text);
  }
  if (!seconds)
    return r.wrong(*node, key,
                   "a duration such as \"90s\", \"15m\", \"12h\" or \"7d\" (at most \"3650d\")");
  out = std::chrono::seconds(*seconds);
  return std::nullopt;
}

maybe_problem read_strings(table_reader& r, const char* key, std::vector<std::string>& out) {
  const auto* node = r.take(key);
  if (!node) return std::nullopt;
  const auto* array = node->as_array();
  if (!array) return r.wrong(*node, key, "a list of strings");
  out.clear();
  for (const auto& item : *array) {
    auto v = item.value<std::string>();
    if (!v) return r.wrong(item, key, "a list of strings");
    out.push_back(*v);
  }
  return std::nullopt;
}

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

int priority_number(std::string_view text) {
  static constexpr std::string_view names[] = {"emerg",   "alert",  "crit", "err",
                                               "warning", "notice", "info", "debug"};
  for (int i = 0; i < 8; ++i)
    if (text == names[i]) return i;
  if (text == "error") return 3;
  if (text == "warn") return 4;
  if (text.size() == 1 && text[0] >= '0' && text[0] <= '7') return text[0] - '0';
  return -1;
}

maybe_problem read_journal(table_reader& r, profile& p) {
  if (const auto* node = r.take("journal")) {
    if (auto all = node->value<bool>(); all && node->is_boolean()) {
      p.journal_all = *all;
    } else if (auto p2 = read_strings(r, "journal", p.journal_units)) {
      return r.wrong(*node, "journal", "true, false, or a list of unit names");
    }
  }
  if (const auto* node = r.take("journal_priority")) {
    int level = -1;
    if (node->is_integer()) {
      const auto n = node->value<std::int64_t>().value_or(-1);
      level = n >= 0 && n <= 7 ? static_cast<int>(n) : -1;  // 2^32 + 2 is not 2
    } else if (auto text = node->value<std::string>()) {
      level = priority_number(*text);
    }
    if (level < 0)
      return r.wrong(*node, "journal_priority",
                     "a syslog priority: emerg, alert, crit, err, warning, notice, info, debug "
                     "(or 0..7)");
    p.journal_max_priority = level;
  }
  return read(r, "journal_directory", p.journal_directory);
}

// The archive name for a command: its own `name`, else argv[0]'s base name,
// made unique within the profile by a numeric suffix.
std::string unique_command_name(std::string base, const std::vector<command_spec>& taken) {
  auto used = [&](const std::string& n) {
    return std::any_of(taken.begin(), taken.end(), [&](const auto& c) { return c.name == n; });
  };
  std::string name = base;
  for (int i = 2; used(name); ++i) name = fmt::format("{}-{}", base, i);
  return name;
}

maybe_problem read_command(table_reader& r, const toml::node& item, std::chrono::seconds timeout,
                           std::vector<command_spec>& out) {
  command_spec c{.timeout = timeout};
  std::string wanted_name;
  if (const auto* argv = item.as_array()) {
    for (const auto& arg : *argv) {
      auto v = arg.value<std::string>();
      if (!v) return r.wrong(arg, "commands", "argv lists of strings");
      c.argv.push_back(*v);
    }
  } else if (const auto* table = item.as_table()) {
    table_reader t(r.file(), *table, r.name("commands."));
    if (auto p = read(t, "name", wanted_name)) return p;
    if (auto p = read_strings(t, "argv", c.argv)) return p;
    if (auto p = read_duration(t, "timeout", c.timeout)) return p;
    if (auto p = t.unknown_key("a command table has name, argv and timeout")) return p;
  } else {
    return r.wrong(item, "commands", "argv lists such as [\"df\", \"-h\"], or {name, argv} tables");
  }
  if (c.argv.empty() || c.argv[0].empty())
    return r.wrong(item, "commands", "a non-empty argv (the program first, no shell)");
  if (!wanted_name.empty() && !valid_name(wanted_name))
    return r.wrong(item, "commands", "a name of letters, digits, '-', '_' or '.'");
  std::string base = wanted_name;
  if (base.empty()) {
    base = std::filesystem::path(c.argv[0]).filename().string();
    if (!valid_name(base)) base = "command";
  }
  c.name = unique_command_name(base, out);
  out.push_back(std::move(c));
  return std::nullopt;
}

maybe_problem read_commands(table_reader& r, profile& p) {
  std::chrono::seconds timeout{30};
  if (auto problem = read_duration(r, "command_timeout", timeout)) return problem;
  const auto* node = r.take("commands");
  if (!node) return std::nullopt;
  const auto* array = node->as_array();
  if (!array) return r.wrong(*node, "commands", "a list of argv lists");
  for (const auto& item : *array)
    if (auto problem = read_command(r, item, timeout, p.commands)) return problem;
  return std::nullopt;
}

maybe_problem read_redaction_rules(table_reader& r, profile& p) {
  const auto* node = r.take("redact");
  if (!node) return std::nullopt;
  const auto* array = node->as_array();
  if (!array) return r.wrong(*node, "redact", "a list of {name, pattern, replacement} tables");
  for (const auto& item : *array) {
    const auto* table = item.as_table();
    if (!table) return r.wrong(item, "redact", "a list of {name, pattern, replacement} tables");
    table_reader t(r.file(), *table, r.name("redact."));
    redaction_rule rule;
    if (auto problem = read(t, "name", rule.name)) return problem;
    if (auto problem = read(t, "pattern", rule.pattern)) return problem;
    if (auto problem = read(t, "replacement", rule.replacement)) return problem;
    if (auto problem = t.unknown_key("a rule has name, pattern and replacement")) return problem;
    if (!valid_name(rule.name) || rule.pattern.empty())
      return r.wrong(item, "redact",
                     "each rule to have a name (letters, digits, -_.) and a pattern");
    if (auto invalid = redact::validate(rule))
      return problem{fmt::format("{}: {}redact: {}", r.where(item), r.name(""), *invalid)};
    p.redact.push_back(std::move(rule));
  }
  return std::nullopt;
}

maybe_problem read_files(table_reader& r, profile& p) {
  for (const char* key : {"files", "exclude"}) {
    auto& list = std::string_view(key) == "files" ? p.files : p.exclude;
    if (auto problem = read_strings(r, key, list)) return problem;
    for (const auto& glob : list)
      if (glob.empty() || glob[0] != '/')
        return problem{fmt::format("{}: {}{}: \"{}\" must be an absolute path or glob",
                                   r.file().string(), r.name(""), key, glob)};
  }
  return std::nullopt;
}

maybe_problem read_profile(const std::filesystem::path& file, const std::string& name,
                           const toml::table& table, profile& p) {
  table_reader r(file, table, fmt::format("profiles.{}.", name));
  p.name = name;
  if (auto problem = read(r, "description", p.description)) return problem;
  if (auto problem = read(r, "remote", p.remote)) return problem;
  if (const auto* node = r.take("approval")) {
    auto mode = node->value<std::string>();
    if (mode == "auto")
      p.approval = approval_mode::automatic;
    else if (mode == "operator")
      p.approval = approval_mode::operator_approval;
    else
      return r.wrong(*node, "approval", "\"auto\" or \"operator\"");
  }
  if (auto problem = read_files(r, p)) return problem;
  if (auto problem = read_journal(r, p)) return problem;
  if (auto problem = read_commands(r, p)) return problem;
  if (auto problem = read_size(r, "command_output_bytes", p.command_output_bytes)) return problem;
  if (auto problem = read(r, "facts", p.facts)) return problem;
  if (auto problem = read_strings(r, "services", p.services)) return problem;
  if (auto problem = read_size(r, "max_file_bytes", p.max_file_bytes)) return problem;
  if (auto problem = read_size(r, "max_bundle_bytes", p.max_bundle_bytes)) return problem;
  if (auto problem = read(r, "redact_defaults", p.redact_defaults)) return problem;
  if (auto problem = read(r, "redact_emails", p.redact_emails)) return problem;
  if (auto problem = read(r, "redact_ips", p.redact_ips)) return problem;
  if (auto problem = read_redaction_rules(r, p)) return problem;
  return r.unknown_key("agent.toml(5) lists every profile setting");
}

maybe_problem read_delivery(const std::filesystem::path& file, const toml::table& table,
                            delivery_config& d) {
  table_reader r(file, table, "delivery.");
  if (auto problem = read_strings(r, "recipients", d.recipients)) return problem;
  for (const auto& recipient : d.recipients)
    if (!crypto::x25519_recipient::parse(recipient))
      return problem{fmt::format("{}: delivery.recipients: \"{}\" is not an age1... recipient",
                                 file.string(), recipient)};
  if (auto problem = read_strings(r, "notifier", d.notifier)) return problem;
  if (auto problem = read(r, "local_passphrase_file", d.local_passphrase_file)) return problem;
  if (auto problem = read_duration(r, "passphrase_file_ttl", d.passphrase_file_ttl)) return problem;
  if (auto problem = read_duration(r, "notifier_timeout", d.notifier_timeout)) return problem;
  if (auto problem = r.unknown_key("agent.toml(5) lists every delivery setting")) return problem;
  if (!d.recipients.empty() && (!d.notifier.empty() || d.local_passphrase_file))
    return problem{
        fmt::format("{}: [delivery] sets recipients and a passphrase channel (notifier or "
                    "local_passphrase_file): keep one, recipients are used for every bundle",
                    file.string())};
  if (!d.notifier.empty() && (d.notifier[0].empty() || d.notifier[0][0] != '/'))
    return problem{
        fmt::format("{}: delivery.notifier: the program must be an absolute path", file.string())};
  return std::nullopt;
}

maybe_problem read_root(const std::filesystem::path& file, const toml::table& root,
                        agent_config& c) {
  table_reader r(file, root, "");
  if (auto problem = read(r, "server", c.server)) return problem;
  if (auto problem = read(r, "state_dir", c.state_dir)) return problem;
  if (auto problem = read(r, "spool_dir", c.spool_dir)) return problem;
  if (auto problem = read_size(r, "spool_max_bytes", c.spool_max_bytes)) return problem;
  if (auto problem = read_duration(r, "spool_max_age", c.spool_max_age)) return problem;
  if (auto problem = read(r, "control_socket", c.control_socket)) return problem;
  if (auto problem = read(r, "proxy", c.proxy)) return problem;
  if (auto problem = read_duration(r, "poll_timeout", c.poll_timeout)) return problem;
  if (auto problem = read_duration(r, "heartbeat_interval", c.heartbeat_interval)) return problem;
  if (auto problem = read_duration(r, "backoff_max", c.backoff_max)) return problem;
  if (const auto* node = r.take("delivery")) {
    const auto* table = node->as_table();
    if (!table) return r.wrong(*node, "delivery", "a [delivery] table");
    if (auto problem = read_delivery(file, *table, c.delivery)) return problem;
  }
  if (const auto* node = r.take("profiles")) {
    const auto* table = node->as_table();
    if (!table) return r.wrong(*node, "profiles", "[profiles.NAME] tables");
    for (auto&& [name, profile_node] : *table) {
      const auto* profile_table = profile_node.as_table();
      std::string profile_name(name.str());
      if (!profile_table || !valid_name(profile_name))
        return problem{
            fmt::format("{}: profiles.{}: expected a [profiles.NAME] table, NAME "
                        "made of letters, digits, '-', '_' or '.'",
                        r.where(profile_node), profile_name)};
      profile p;
      if (auto problem = read_profile(file, profile_name, *profile_table, p)) return problem;
      c.profiles.emplace(profile_name, std::move(p));
    }
  }
  if (auto problem = r.unknown_key("agent.toml(5) lists every setting")) return problem;
  if (!c.server.empty() && !c.server.starts_with("https://"))
    return problem{
        fmt::format("{}: server: \"{}\" must be an https:// URL", file.string(), c.server)};
  if (c.poll_timeout > std::chrono::seconds(60))
    return problem{
        fmt::format("{}: poll_timeout: at most \"60s\" (the server's limit)", file.string())};
  return std::nullopt;
}

}  // namespace

std::vector<std::string> agent_config::remote_profiles() const {
  std::vector<std::string> names;
  for (const auto& [name, p] : profiles)
    if (p.remote) names.push_back(name);
  return names;
}

config_result load_config(const std::filesystem::path& file) {
  auto text = common::read_small_file(file);
  if (!text)
    return {boost::system::in_place_error,
            fmt::format("{}: {}", file.string(), text.error().message())};
  return parse_config(*text, file);
}

config_result parse_config(std::string_view text, const std::filesystem::path& file) {
  agent_config config;
  config.source = file;
  toml::table root;
  try {
    root = toml::parse(text, file.string());
  } catch (const toml::parse_error& e) {
    return {boost::system::in_place_error,
            fmt::format("{}:{}: {}", file.string(), e.source().begin.line, e.description())};
  }
  if (auto problem = read_root(file, root, config))
    return {boost::system::in_place_error, std::move(problem->text)};
  return config;
}

}  // namespace valise::agent
