// How store records look in the API (docs/api.md): pure conversions.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "valise/server/store.hpp"

namespace valise::server {

std::string rfc3339(unix_time t);

boost::json::value to_json(const ticket& t);
boost::json::value to_json(const bundle_info& b);
boost::json::value to_json(const link_info& l);
boost::json::value to_json(const token_info& t);
boost::json::value to_json(const audit_record& r);
boost::json::value to_json(const purge_report& p);

// A ticket ref the caller may choose: 1-64 of [A-Za-z0-9._-], not starting
// with '.', so it is safe in URLs, logs and file names.
bool valid_ticket_ref(std::string_view ref);

}  // namespace valise::server
