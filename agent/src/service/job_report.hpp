// What the agent tells the server about a job, in a form the server takes:
// the error text, and which refusals of a report are final.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace valise::agent {

// The longest `error` the agent keeps and sends (the server keeps 1024 bytes).
inline constexpr std::size_t max_report_error_bytes = 1000;

// Pure: `text` (an operator's reason, a program's message) as printable UTF-8
// of at most max_report_error_bytes, cut between characters; tabs and
// newlines become spaces, other controls \xNN (common::printable_text).
std::string report_error(std::string_view text);

// Pure: whether the server's refusal of a report (https_client's error) is
// final, the same report getting the same answer however often it is sent:
// 400, 404, 409, 410, 413, 422. The job is then dropped rather than retried
// forever. Network failures, 401/403 (a certificate being renewed), 408, 429
// and 5xx are worth retrying.
bool report_refused_for_good(std::error_code ec);

}  // namespace valise::agent
