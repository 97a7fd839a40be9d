// A ticket's story as its audit records tell it: each record an event with
// a plain-words sentence (GET /api/v1/tickets/{ref}, `valise ticket show`).
// The console says the same in the page's language (web/src/console/audit.ts,
// whose English strings these follow).
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "valise/server/store.hpp"

namespace valise::server {

// Whether `who` may see the record in the events feed and a ticket's
// timeline: refusals are the operator's business, token records an admin's.
bool visible_to(const audit_record& r, role who);

// Pure: {seq, at, kind, actor, text, details} for one record.
boost::json::object timeline_event(const audit_record& r);

// "alice", "token ci", "upload link lnk_…", "agent agt_…", "valise".
std::string actor_words(const std::string& label);

}  // namespace valise::server
