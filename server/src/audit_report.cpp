#include "audit_report.hpp"

#include "valise/common/rfc3339.hpp"

namespace valise::server {
namespace {

using kind = audit_store::checkpoint_problem::kind;

constexpr const char* restore_hint =
    "records from there on were altered or removed: restore the database from a backup and "
    "investigate";

std::string sentence(const audit_store::checkpoint_problem& p, const std::string& source,
                     const audit_store::verify_report& report) {
  const std::string of =
      "the checkpoint of " + common::format_rfc3339(p.time) + " (" + source + ")";
  switch (p.what) {
    case kind::missing:
      return source + " is missing: removing the newest records would go unseen";
    case kind::unreadable:
      return source + " holds no valid valise-audit-checkpoint line";
    case kind::other_key:
      return "the checkpoint in " + source + " was made with another audit key (key " + p.key_id +
             "): audit.key was replaced, or the checkpoint is another server's";
    case kind::not_authentic:
      return "the checkpoint in " + source +
             " is not authentic: its MAC does not match audit.key (forged or edited)";
    case kind::truncated:
      return "audit trail truncated: " + of + " counts " + std::to_string(p.records) +
             " records, the database has " + std::to_string(report.last_seq);
    case kind::diverged:
      return "audit record " + std::to_string(p.records) + " does not match " + of +
             ": the trail was rolled back or rewritten";
  }
  return "audit checkpoint problem";
}

std::string hint_for(kind k) {
  switch (k) {
    case kind::missing:
      return "the server writes a new audit.head at its next start: compare with the "
             "valise-audit-checkpoint lines of its journal (--checkpoints FILE)";
    case kind::unreadable:
      return "pass lines as the server logs them: journalctl -u valise-server -g "
             "valise-audit-checkpoint > FILE, then --checkpoints FILE";
    case kind::other_key:
    case kind::not_authentic:
      return "compare audit.key with your backup of the data directory, and investigate who "
             "can write it";
    case kind::truncated:
    case kind::diverged:
      return "the newest records were removed (or valise.db restored from an older backup): "
             "restore the database from a backup and investigate";
  }
  return restore_hint;
}

}  // namespace

audit_findings describe(const audit_store::verify_report& report,
                        const std::vector<std::string>& sources) {
  audit_findings out;
  if (report.first_bad_seq) {
    out.lines.push_back("audit chain broken at record " + std::to_string(*report.first_bad_seq) +
                        " of " + std::to_string(report.records));
    out.hint = restore_hint;
  }
  for (const auto& p : report.problems) {
    const auto& source = p.source < sources.size() ? sources[p.source] : sources.front();
    out.lines.push_back(sentence(p, source, report));
    if (out.hint.empty()) out.hint = hint_for(p.what);
  }
  return out;
}

}  // namespace valise::server
