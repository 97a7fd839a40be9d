#include "api/json_views.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

namespace valise::server {

namespace json = boost::json;

std::string rfc3339(unix_time t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", tm);
}

bool valid_ticket_ref(std::string_view ref) {
  if (ref.empty() || ref.size() > 64 || ref.front() == '.') return false;
  for (char c : ref)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
      return false;
  return true;
}

json::value to_json(const ticket& t) {
  return json::object{
      {"ref", t.ref},
      {"title", t.title},
      {"severity", to_string(t.level)},
      {"status", to_string(t.status)},
      {"created_at", rfc3339(t.created_at)},
      {"resolved_at", t.resolved_at ? json::value(rfc3339(*t.resolved_at)) : json::value(nullptr)},
      {"bundles", t.bundle_count},
  };
}

json::value to_json(const bundle_info& b) {
  return json::object{
      {"id", b.id},         {"ticket", b.ticket_ref}, {"filename", b.filename},
      {"size", b.size},     {"sha256", b.sha256},     {"created_at", rfc3339(b.created_at)},
      {"source", b.source},
  };
}

json::value to_json(const link_info& l) {
  return json::object{
      {"id", l.id},
      {"ticket", l.ticket_ref},
      {"created_at", rfc3339(l.created_at)},
      {"expires_at", rfc3339(l.expires_at)},
      {"max_bytes", l.max_bytes},
      {"used_bytes", l.used_bytes},
      {"revoked", l.revoked},
  };
}

json::value to_json(const token_info& t) {
  return json::object{
      {"id", t.id},
      {"name", t.name},
      {"role", to_string(t.kind)},
      {"created_at", rfc3339(t.created_at)},
      {"revoked", t.revoked},
  };
}

json::value to_json(const audit_record& r) {
  boost::system::error_code ec;
  json::value detail = json::parse(r.detail, ec);
  if (ec) detail = json::object{{"unparsed", r.detail}};
  return json::object{
      {"seq", r.seq},
      {"time", rfc3339(r.time)},
      {"actor", r.actor},
      {"action", r.action},
      {"ticket", r.ticket_ref.empty() ? json::value(nullptr) : json::value(r.ticket_ref)},
      {"detail", std::move(detail)},
      {"hash", r.hash},
  };
}

json::value to_json(const purge_report& p) {
  json::array bundles;
  for (const auto& b : p.bundles)
    bundles.push_back(json::object{{"id", b.id}, {"size", b.size}, {"sha256", b.sha256}});
  json::array uploads;
  for (const auto& u : p.uploads)
    uploads.push_back(json::object{{"id", u.id}, {"offset", u.offset}});
  return json::object{{"purged", std::move(bundles)}, {"cancelled_uploads", std::move(uploads)}};
}

}  // namespace valise::server
