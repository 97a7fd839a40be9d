// What an outbox event says on a helpdesk ticket, as a private note in plain
// words: a bundle arrived (file, size, SHA-256, from whom, the command that
// fetches it), a request to an agent failed (why), or a purge's receipt (what
// was destroyed, why, when, with each bundle's SHA-256). Pure.
#pragma once

#include <boost/system/result.hpp>
#include <string>

#include "valise/server/store/outbox_store.hpp"

namespace valise::server::outbox {

// The note for `entry`; an error (a sentence) for an event without one or a
// payload that is not the event's.
boost::system::result<std::string, std::string> note_text(const outbox_entry& entry);

}  // namespace valise::server::outbox
