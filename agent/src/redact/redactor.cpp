// The redaction engine. Text is processed a block of whole lines at a time:
// the trigger scan finds the words the built-in rules start from, and plain
// code (default_rules.cpp) checks what surrounds each for a secret; PEM
// private-key blocks are dropped between their BEGIN and END markers; the RE2
// rules (the profile's own, IP addresses) then run over the whole block, as
// one alternation: one DFA pass finds the leftmost match of any of them.
#include "redact/redactor.hpp"

#include <re2/re2.h>

#include <cstring>

#include "redact/default_rules.hpp"
#include "redact/trigger_scan.hpp"
#include "valise/crypto/secret.hpp"

namespace valise::agent::redact {
namespace {

constexpr std::string_view redacted = "[REDACTED]";

RE2::Options rule_options() {
  RE2::Options o;
  o.set_encoding(RE2::Options::EncodingLatin1);  // bytes: binary input cannot trip it up
  o.set_never_nl(true);                          // within one line
  o.set_log_errors(false);
  o.set_max_mem(32 << 20);
  return o;
}

struct compiled_rule {
  std::size_t name_index = 0;
  std::unique_ptr<RE2> re;  // alone: for Rewrite and its group count
  std::string replacement;
  int groups = 0;
  int offset = 0;  // its own group within the combined pattern
};

struct rule_group {
  std::vector<compiled_rule> rules;
  std::unique_ptr<RE2> combined;
  int total_groups = 0;
  bool empty() const { return rules.empty(); }
};

void wipe(std::string& s) {
  crypto::secure_zero(s.data(), s.size());
  s.clear();
}

// "-----BEGIN|END <label>-----" with a label ending in PRIVATE KEY (or
// PRIVATE KEY BLOCK, PGP's), in [p, end): where it starts and ends.
struct marker {
  const char* begin = nullptr;
  const char* end = nullptr;
};

marker find_marker(const char* p, const char* end, std::string_view open) {
  constexpr std::string_view dashes = "-----";
  while (p < end) {
    const auto* at = static_cast<const char*>(
        ::memmem(p, static_cast<std::size_t>(end - p), open.data(), open.size()));
    if (!at) return {};
    const char* label = at + open.size();
    const char* line_end =
        static_cast<const char*>(std::memchr(label, '\n', static_cast<std::size_t>(end - label)));
    if (!line_end) line_end = end;
    const auto* close = static_cast<const char*>(
        ::memmem(label, static_cast<std::size_t>(line_end - label), dashes.data(), dashes.size()));
    if (close) {
      const std::string_view name(label, static_cast<std::size_t>(close - label));
      if (name.ends_with("PRIVATE KEY") || name.ends_with("PRIVATE KEY BLOCK")) {
        return {at, close + dashes.size()};
      }
    }
    p = at + 1;
  }
  return {};
}

}  // namespace

struct rule_set::impl {
  std::vector<std::string> names;  // index -> rule name
  rule_group everywhere;           // RE2 rules, over all of the text
  bool pem = false;
  std::size_t pem_index = 0;
  detail::trigger_scan scan{{}};
  struct word {
    detail::context_check check;
    std::size_t name_index;
  };
  std::vector<word> words;  // by scan word

  std::size_t name_index(const std::string& name) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) return i;
    }
    names.push_back(name);
    return names.size() - 1;
  }

  // Adds a rule whose pattern validate() accepted.
  void add(rule_group& g, const std::string& name, const std::string& pattern,
           const std::string& replacement) {
    compiled_rule r;
    r.name_index = name_index(name);
    // Multi-line: run over a block of lines, ^ and $ are line anchors.
    r.re = std::make_unique<RE2>("(?m)" + pattern, rule_options());
    r.replacement = replacement;
    r.groups = r.re->NumberOfCapturingGroups();
    g.rules.push_back(std::move(r));
  }

  static std::optional<std::string> combine(rule_group& g) {
    if (g.rules.empty()) return std::nullopt;
    std::string pattern;
    int next = 1;
    for (auto& r : g.rules) {
      if (!pattern.empty()) pattern += '|';
      pattern += "(" + r.re->pattern() + ")";
      r.offset = next;
      next += 1 + r.groups;
    }
    g.total_groups = next - 1;
    g.combined = std::make_unique<RE2>(pattern, rule_options());
    if (!g.combined->ok()) return "redaction rules do not combine: " + g.combined->error();
    return std::nullopt;
  }
};

std::optional<std::string> validate(const redaction_rule& rule) {
  if (rule.name.empty()) return "a redaction rule has no name";
  const std::string what = "redaction rule '" + rule.name + "': ";
  if (rule.pattern.empty()) return what + "empty pattern";
  RE2 re(rule.pattern, rule_options());
  if (!re.ok()) return what + re.error();
  std::string error;
  if (!re.CheckRewriteString(rule.replacement, &error)) return what + "replacement: " + error;
  if (RE2::FullMatch("", re)) return what + "pattern matches empty text";
  return std::nullopt;
}

rule_set::rule_set(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
rule_set::rule_set(rule_set&&) noexcept = default;
rule_set& rule_set::operator=(rule_set&&) noexcept = default;
rule_set::~rule_set() = default;

bool rule_set::empty() const {
  return impl_->words.empty() && impl_->everywhere.empty();
}

boost::system::result<rule_set, std::string> rule_set::compile(const profile& p) {
  return compile(p.redact, p.redact_defaults, p.redact_emails, p.redact_ips);
}

boost::system::result<rule_set, std::string> rule_set::compile(
    const std::vector<redaction_rule>& own, bool defaults, bool emails, bool ips) {
  auto set = std::make_unique<impl>();
  std::vector<std::string> words;
  for (const auto& t : detail::builtin_triggers(defaults, emails)) {
    words.push_back(t.word);
    set->words.push_back({t.check, set->name_index(t.rule)});
    if (t.check == detail::context_check::pem_begin) {
      set->pem = true;
      set->pem_index = set->name_index(t.rule);
    }
  }
  for (const auto& spec : detail::default_rules(ips)) {
    set->add(set->everywhere, spec.name, spec.pattern, spec.replacement);
  }
  for (const auto& rule : own) {
    if (auto problem = validate(rule)) return *problem;
    set->add(set->everywhere, rule.name, rule.pattern, rule.replacement);
  }
  if (auto problem = impl::combine(set->everywhere)) return *problem;
  set->scan = detail::trigger_scan(std::move(words));
  return rule_set(std::move(set));
}

struct redactor::state {
  const rule_set::impl& rules;
  crypto::byte_sink& out;
  redactor_limits limits;
  std::string carry;   // the incomplete last line
  std::string stage;   // after the triggered rules, when rules for everywhere follow
  std::string output;  // redacted, waiting to be handed on
  bool in_pem = false;
  bool dropped_newline = false;  // the PEM body dropped so far spans lines
  std::vector<std::uint64_t> counts;
  std::vector<re2::StringPiece> groups;

  state(const rule_set::impl& r, crypto::byte_sink& o, redactor_limits l)
      : rules(r), out(o), limits(l), counts(r.names.size()) {
    groups.resize(static_cast<std::size_t>(r.everywhere.total_groups + 1));
  }

  ~state() {
    wipe(carry);
    wipe(stage);
  }

  // Rules of `g` over [from, to) of `text` (the block, for ^ and \b context).
  void apply(const rule_group& g, std::string_view text, std::size_t from, std::size_t to,
             std::string& dst) {
    const re2::StringPiece context(text.data(), text.size());
    std::size_t pos = from;
    // Whether anything matches at all takes the DFA alone; finding where and
    // which rule takes more, so only for text that has a match.
    if (!g.combined->Match(context, pos, to, RE2::UNANCHORED, nullptr, 0)) {
      dst.append(text.data() + from, to - from);
      return;
    }
    // The combined pattern's DFA says where the leftmost match is; the
    // first rule that matches there (anchored, with its own, smaller
    // program) is the one the alternation chose, and gives the groups.
    while (pos < to && g.combined->Match(context, pos, to, RE2::UNANCHORED, groups.data(), 1)) {
      const auto begin = static_cast<std::size_t>(groups[0].data() - text.data());
      const compiled_rule* rule = nullptr;
      for (const auto& r : g.rules) {
        if (r.re->Match(context, begin, to, RE2::ANCHOR_START, groups.data(), r.groups + 1)) {
          rule = &r;
          break;
        }
      }
      if (!rule || groups[0].empty()) {  // nothing to replace: step over one byte
        if (begin >= to) break;
        dst.append(text.data() + pos, begin + 1 - pos);
        pos = begin + 1;
        continue;
      }
      dst.append(text.data() + pos, begin - pos);
      const re2::StringPiece rewrite(rule->replacement);
      rule->re->Rewrite(&dst, rewrite, groups.data(), rule->groups + 1);
      ++counts[rule->name_index];
      pos = begin + groups[0].size();
    }
    if (pos < to) dst.append(text.data() + pos, to - pos);
  }

  void end_pem(std::string& dst) {
    dst += dropped_newline ? "\n" + std::string(redacted) + "\n" : std::string(redacted);
    in_pem = false;
    dropped_newline = false;
  }

  // Whole lines (or a cut piece of an over-long one), in [p, end).
  void process(const char* const block, const char* const end) {
    std::string& dst = rules.everywhere.empty() ? output : stage;
    const char* p = block;     // emitted up to here
    const char* from = block;  // scanned up to here
    const char* line = block;  // the line of the last trigger word
    const char* line_end = block;
    while (p < end) {
      if (in_pem) {
        const auto close = find_marker(p, end, "-----END ");
        const char* stop = close.begin ? close.begin : end;
        dropped_newline =
            dropped_newline || std::memchr(p, '\n', static_cast<std::size_t>(stop - p));
        p = from = stop;
        if (close.begin) end_pem(dst);
        continue;
      }
      const auto hit = rules.scan.find(from, end);
      if (hit.at == end) {
        dst.append(p, end);
        break;
      }
      if (hit.at >= line_end) {  // a new line: find its bounds (each byte looked at once)
        const char* floor = std::max(p, line_end);
        const auto* before = static_cast<const char*>(
            ::memrchr(floor, '\n', static_cast<std::size_t>(hit.at - floor)));
        line = before ? before + 1 : floor;
        const auto* nl = static_cast<const char*>(
            std::memchr(hit.at, '\n', static_cast<std::size_t>(end - hit.at)));
        line_end = nl ? nl + 1 : end;
      }
      const auto& word = rules.words[hit.word];
      if (word.check == detail::context_check::pem_begin) {
        const auto open = find_marker(hit.at, line_end, "-----BEGIN ");
        if (open.begin != hit.at) {
          from = hit.at + 1;
          continue;
        }
        dst.append(p, open.end);
        ++counts[rules.pem_index];
        in_pem = true;
        p = from = open.end;
        continue;
      }
      const auto secret = detail::find_secret(word.check, std::max(line, p), hit.at,
                                              rules.scan.word_size(hit.word), line_end);
      if (!secret) {
        from = hit.at + 1;
        continue;
      }
      dst.append(p, secret->begin);
      dst += redacted;
      ++counts[word.name_index];
      p = from = secret->end;
    }
    if (!rules.everywhere.empty()) {
      apply(rules.everywhere, stage, 0, stage.size(), output);
      wipe(stage);
    }
  }

  // Cuts an over-long carried line, preferably after a separator, so that
  // memory stays bounded whatever the input.
  void cut_long_line() {
    while (carry.size() > limits.max_line) {
      std::size_t cut = limits.max_line;
      const std::size_t floor = cut > 4096 ? cut - 4096 : 0;
      for (std::size_t i = cut; i > floor; --i) {
        const char c = carry[i - 1];
        if (c == ' ' || c == '\t' || c == ',' || c == ';' || c == '&' || c == '\0') {
          cut = i;
          break;
        }
      }
      process(carry.data(), carry.data() + cut);
      crypto::secure_zero(carry.data(), cut);
      carry.erase(0, cut);
    }
  }

  result<void> flush(bool all) {
    if (output.empty() || (!all && output.size() < limits.flush_at)) return {};
    return out.write_owned(output);  // may swap in a buffer of the sink's
  }

  result<void> write(const char* p, const char* end) {
    if (!carry.empty()) {
      const auto* nl =
          static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
      if (!nl) {
        carry.append(p, end);
        cut_long_line();
        return flush(false);
      }
      carry.append(p, nl + 1);
      process(carry.data(), carry.data() + carry.size());
      wipe(carry);
      p = nl + 1;
    }
    if (const auto* last =
            static_cast<const char*>(::memrchr(p, '\n', static_cast<std::size_t>(end - p)))) {
      process(p, last + 1);
      p = last + 1;
      if (auto r = flush(false); !r) return r;
    }
    carry.append(p, end);
    cut_long_line();
    return flush(false);
  }
};

redactor::redactor(const rule_set& rules, crypto::byte_sink& out, redactor_limits limits)
    : s_(std::make_unique<state>(*rules.impl_, out, limits)) {
  s_->output.reserve(limits.flush_at * 2);
}

redactor::~redactor() = default;

result<void> redactor::write(crypto::bytes data) {
  const auto* p = reinterpret_cast<const char*>(data.data());
  return s_->write(p, p + data.size());
}

result<void> redactor::finish() {
  if (!s_->carry.empty()) {
    s_->process(s_->carry.data(), s_->carry.data() + s_->carry.size());
    wipe(s_->carry);
  }
  if (s_->in_pem) {  // a key without its END: everything after BEGIN is gone
    auto& dst = s_->rules.everywhere.empty() ? s_->output : s_->stage;
    s_->end_pem(dst);
    if (!s_->rules.everywhere.empty()) {
      s_->output += s_->stage;
      wipe(s_->stage);
    }
  }
  return s_->flush(true);
}

std::map<std::string, std::uint64_t> redactor::counts() const {
  std::map<std::string, std::uint64_t> out;
  for (std::size_t i = 0; i < s_->counts.size(); ++i) {
    if (s_->counts[i] > 0) out[s_->rules.names[i]] = s_->counts[i];
  }
  return out;
}

std::string redact_text(const rule_set& rules, std::string_view text,
                        std::map<std::string, std::uint64_t>* counts) {
  crypto::memory_sink sink;
  redactor r(rules, sink);
  (void)r.write({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  (void)r.finish();  // a memory sink does not fail
  if (counts) *counts = r.counts();
  return {sink.data().begin(), sink.data().end()};
}

}  // namespace valise::agent::redact
