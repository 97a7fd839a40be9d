// One [helpdesk.NAME] table of server.toml: how valise checks the deliveries
// of that helpdesk's webhooks, where the ticket is in their JSON, what its
// statuses and priorities mean, and how to reach its REST API for notes.
// Plain data; server/src/helpdesk/ parses, verifies, maps and builds notes.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "valise/server/store.hpp"

namespace valise::server::helpdesk {

enum class preset { glpi, zammad, jira, zendesk, custom };
enum class check { hmac, token };
enum class digest { sha256, sha1 };
enum class encoding { hex, base64 };

struct connector {
  std::string name;  // NAME of [helpdesk.NAME]: /api/v1/hooks/NAME
  preset kind = preset::custom;

  // How a delivery proves it comes from the helpdesk.
  check verify = check::hmac;
  digest algorithm = digest::sha256;
  // What is signed: "{body}" and "{timestamp}" replaced by the raw body and
  // the timestamp header's value as sent ("{body}{timestamp}" for GLPI).
  std::string signed_payload = "{body}";
  std::string signature_header;  // also the token's header with check::token
  std::string signature_prefix;  // "sha1=", "sha256=", or nothing
  encoding signature_encoding = encoding::hex;
  std::string secret;            // never logged, audited or answered
  std::string timestamp_header;  // empty: deliveries carry no timestamp
  std::chrono::seconds timestamp_window{300};
  // Where a delivery's id is, for refusing replays: a header, or a JSON
  // pointer into the body; neither: the signature itself, which a replay
  // repeats and a new delivery (new timestamp) changes.
  std::string delivery_id_header;
  std::string delivery_id_pointer;

  // Where the ticket is in the body (JSON pointers, RFC 6901).
  std::string ticket_id_pointer;
  std::string title_pointer;
  std::string priority_pointer;
  std::string status_pointer;
  std::vector<std::string> solved_statuses;
  std::vector<std::string> closed_statuses;
  // Statuses that mean the ticket is being worked on again: one resolved
  // here (or waiting for its grace period) is reopened.
  std::vector<std::string> reopened_statuses;
  std::vector<std::pair<std::string, severity>> priorities;  // value -> severity
  severity default_severity = severity::non_blocking;
  // Time between "solved" there and the resolution (and purge) here.
  std::chrono::seconds grace_period{3600};

  // The helpdesk's REST API, for notes (private followups, internal
  // comments). Tokens never logged, audited or answered.
  std::string api_url;    // base URL, no trailing slash
  std::string api_token;  // GLPI user_token, Zammad/Jira/Zendesk API token
  std::string api_user;   // Jira and Zendesk: the account's email address
  std::string app_token;  // GLPI: App-Token of the API client
  // The CA that signed the API's certificate (a helpdesk on a private CA);
  // empty: the system's CAs.
  std::filesystem::path api_ca_file;
};

}  // namespace valise::server::helpdesk
