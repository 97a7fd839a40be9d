#include "api/refusal_log.hpp"

#include <fmt/format.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace valise::server {
namespace {

constexpr std::size_t max_reasons = 8;  // per tally; the rest count as "other"
constexpr std::string_view others = "others";

void count_reason(std::map<std::string, unsigned long long>& reasons, const std::string& reason) {
  if (reasons.size() < max_reasons || reasons.count(reason))
    ++reasons[reason];
  else
    ++reasons["other"];
}

boost::json::object reasons_json(const std::map<std::string, unsigned long long>& reasons) {
  boost::json::object out;
  for (const auto& [reason, n] : reasons) out[reason] = n;
  return out;
}

}  // namespace

std::string short_escaped(std::string_view text, std::size_t limit) {
  std::string out;
  for (unsigned char c : text) {
    std::string piece = (c > 0x20 && c < 0x7f && c != '"' && c != '\\')
                            ? std::string(1, static_cast<char>(c))
                            : (c == ' ' ? std::string(" ") : fmt::format("%{:02X}", c));
    if (out.size() + piece.size() > limit) return out + "...";
    out += piece;
  }
  return out;
}

std::optional<refusal_record> refusal_log::record(const refusal& r, unix_time now) {
  std::lock_guard lock(mutex_);
  if (started_ == 0) started_ = now;
  const auto key = std::pair{r.action, r.source};
  auto it = sources_.find(key);
  const bool own = it != sources_.end() || sources_.size() < max_sources_;
  tally& t = it != sources_.end() ? it->second : own ? sources_[key] : others_[r.action];
  if (t.first_recorded) {
    ++t.count;
    count_reason(t.reasons, r.reason);
    return std::nullopt;
  }
  t.first_recorded = true;
  boost::json::object detail{{"from", own ? r.source : std::string(others)},
                             {"address", r.address},
                             {"by", r.by},
                             {"reason", r.reason},
                             {"route", short_escaped(r.route)}};
  if (r.route.size() > 96) detail["route_length"] = r.route.size();
  if (!r.cert_sha256.empty()) detail["cert_sha256"] = r.cert_sha256;
  if (!r.agent.empty()) detail["agent"] = r.agent;
  if (!own)
    detail["note"] = "more sources were refused in this interval than the audit names one by one";
  return refusal_record{r.action, boost::json::serialize(detail)};
}

std::vector<refusal_record> refusal_log::flush(unix_time now, bool now_or_never) {
  std::lock_guard lock(mutex_);
  std::vector<refusal_record> out;
  if (started_ == 0 || (now < started_ + interval_ && !now_or_never)) return out;
  auto summary = [&](const std::string& action, const std::string& from, const tally& t) {
    if (t.count == 0) return;
    boost::json::object detail{{"from", from},
                               {"count", t.count},
                               {"since", started_},
                               {"until", now},
                               {"reasons", reasons_json(t.reasons)},
                               {"note", "refusals after the first one recorded in this interval"}};
    out.push_back({action, boost::json::serialize(detail)});
  };
  for (const auto& [key, t] : sources_) summary(key.first, key.second, t);
  for (const auto& [action, t] : others_) summary(action, std::string(others), t);
  sources_.clear();
  others_.clear();
  started_ = 0;
  return out;
}

}  // namespace valise::server
