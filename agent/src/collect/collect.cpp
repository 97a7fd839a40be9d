// The entry point: compiles the profile's redaction rules, then runs the
// collectors in a fixed order (files, journal, commands, facts) into one
// bundle, and notes the bundle cap if it was reached.
#include "collect/collect.hpp"

#include "collect/collectors.hpp"

namespace valise::agent {

result<void> collect(const profile& p, const collection_window& w, common::bundle_writer& writer,
                     const collect_options& o) {
  auto rules = redact::rule_set::compile(p);
  if (!rules) {
    // The config loader validates the rules; if one slipped through, nothing
    // is collected unredacted.
    writer.add_note("not collected: " + rules.error());
    return {};
  }
  detail::collection_run run{p, *rules, writer, w, o};
  for (auto* collector : {&detail::collect_files, &detail::collect_journal,
                          &detail::collect_commands, &detail::collect_facts}) {
    if (auto r = collector(run); !r) return r;
  }
  if (run.cap_reached() || run.skipped_by_cap > 0) {
    writer.add_note(run.cap_text() + ": " + std::to_string(run.skipped_by_cap) +
                    " sources not collected (their items say which)");
  }
  return {};
}

}  // namespace valise::agent
