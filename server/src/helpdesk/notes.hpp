// A private note on the helpdesk's ticket, as the HTTP request its REST API
// documents (GLPI followup, Zammad internal article, Jira Service Management
// internal comment, Zendesk private comment). Pure: the outbox sends it.
#pragma once

#include <boost/json/object.hpp>
#include <boost/system/result.hpp>
#include <string>
#include <utility>
#include <vector>

#include "valise/server/helpdesk_connector.hpp"

namespace valise::server::helpdesk {

struct http_call {
  std::string method;  // "POST", "PUT", "GET"
  std::string url;     // absolute
  std::vector<std::pair<std::string, std::string>> headers;
  boost::json::object body;  // empty for GET
};

// The request that puts `text` on ticket `ticket_id` as a note only the
// helpdesk's agents see. GLPI's API needs a session first: `session_token`
// is what glpi_init_session's answer gave ("session_token"); the other
// presets ignore it. A custom connector has no note API (an error).
boost::system::result<http_call, std::string> note_request(const connector& c,
                                                           const std::string& ticket_id,
                                                           const std::string& text,
                                                           const std::string& session_token = {});

// GLPI: GET apirest.php/initSession with the App-Token and the user_token;
// its JSON answer holds "session_token". The outbox keeps the session for
// the next notes and opens another when GLPI refuses it (sessions expire on
// GLPI's side), so it never needs killSession.
http_call glpi_init_session(const connector& c);

}  // namespace valise::server::helpdesk
