// Refused requests, folded for the audit trail so that anonymous traffic
// costs bounded storage. In each interval, the first refusal from a source
// (an address_key) is recorded at once; the source's later refusals in that
// interval become one record with their count when the interval ends. At
// most `max_sources` sources get records of their own per interval; the
// refusals of any others are counted together under "others". So however
// many requests arrive, refusals add at most 2 * (max_sources + 1) records
// per interval, each a few hundred bytes: what the client sent is kept only
// as a short, escaped prefix. Pure: the caller writes the records.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "valise/server/store.hpp"

namespace valise::server {

struct refusal {
  std::string action;              // "auth.refused", "agent.refused"
  std::string source;              // address_key of the client
  std::string address;             // the client's own address
  std::string by;                  // "anonymous", or the token's label
  std::string reason;              // one of the server's own sentences
  std::string route;               // "METHOD /path" as sent: shortened and escaped here
  std::string cert_sha256, agent;  // agent refusals
};

// An audit record to write.
struct refusal_record {
  std::string action;
  std::string detail;  // JSON
};

class refusal_log {
 public:
  explicit refusal_log(unix_time interval, std::size_t max_sources = 16)
      : interval_(interval), max_sources_(max_sources) {}

  // The record to write now (the first of its source and action in this
  // interval), or nullopt when it was counted for the summary.
  std::optional<refusal_record> record(const refusal& r, unix_time now);
  // Summaries of the interval that ended by `now` (nothing if it has not,
  // unless `now_or_never`: at shutdown).
  std::vector<refusal_record> flush(unix_time now, bool now_or_never = false);

 private:
  struct tally {
    bool first_recorded = false;
    unsigned long long count = 0;  // after the first, which has its own record
    std::map<std::string, unsigned long long> reasons;
  };

  const unix_time interval_;
  const std::size_t max_sources_;
  std::mutex mutex_;
  unix_time started_ = 0;  // of the current interval; 0: none yet
  std::map<std::pair<std::string, std::string>, tally> sources_;  // (action, source)
  std::map<std::string, tally> others_;                           // by action
};

// `text` as a short printable prefix: bytes outside printable ASCII as %XX,
// at most `limit` characters, "..." when cut.
std::string short_escaped(std::string_view text, std::size_t limit = 96);

}  // namespace valise::server
