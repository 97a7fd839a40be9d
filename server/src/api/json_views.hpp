// How store records look in the API (docs/api.md): pure conversions.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "valise/common/rfc3339.hpp"
#include "valise/server/store.hpp"

namespace valise::server {

using common::format_rfc3339;
using common::parse_rfc3339;

boost::json::value to_json(const ticket& t);
boost::json::value to_json(const bundle_info& b);
boost::json::value to_json(const link_info& l);
boost::json::value to_json(const token_info& t);
boost::json::value to_json(const user_info& u);
boost::json::value to_json(const audit_record& r);
boost::json::value to_json(const purge_report& p);
boost::json::value to_json(const agent_info& a);
boost::json::value to_json(const request_info& r);
// A request as its agent sees it in a job list: what to collect, no state.
boost::json::value job_json(const request_info& r);

// A profile name: 1-64 of [A-Za-z0-9._-]. The agent decides what it means.
bool valid_profile_name(std::string_view name);
// What a person compares to recognise an age public key: "SHA256:" and the
// unpadded base64 of the SHA-256 of its text (as OpenSSH shows keys).
std::string age_key_fingerprint(std::string_view key);

// A ticket ref the caller may choose: 1-64 of [A-Za-z0-9._-], not starting
// with '.', so it is safe in URLs, logs and file names.
bool valid_ticket_ref(std::string_view ref);

}  // namespace valise::server
