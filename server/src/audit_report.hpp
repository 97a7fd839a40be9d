// The sentences of `valise-server audit verify`: what a verify_report found,
// one line each, and what to do about it.
#pragma once

#include <string>
#include <vector>

#include "valise/server/store/audit_store.hpp"

namespace valise::server {

struct audit_findings {
  std::vector<std::string> lines;  // empty: the trail is intact
  std::string hint;
};

// `sources[i]` names where checkpoint i came from (0: audit.head).
audit_findings describe(const audit_store::verify_report& report,
                        const std::vector<std::string>& sources);

}  // namespace valise::server
