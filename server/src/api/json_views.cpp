#include "api/json_views.hpp"

#include <fmt/format.h>
#include <sodium.h>

#include <array>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <cstring>

namespace valise::server {

namespace json = boost::json;

bool valid_ticket_ref(std::string_view ref) {
  if (ref.empty() || ref.size() > 64 || ref.front() == '.') return false;
  for (char c : ref)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
      return false;
  return true;
}

json::value time_or_null(const std::optional<unix_time>& t) {
  return t ? json::value(format_rfc3339(*t)) : json::value(nullptr);
}

json::value to_json(const ticket& t) {
  return json::object{
      {"ref", t.ref},
      {"title", t.title},
      {"severity", to_string(t.level)},
      {"status", to_string(t.status)},
      {"created_at", format_rfc3339(t.created_at)},
      {"resolved_at", time_or_null(t.resolved_at)},
      {"bundles", t.bundle_count},
      {"resolution", t.resolution ? json::value(*t.resolution) : json::value(nullptr)},
      {"connector", t.connector.empty() ? json::value(nullptr) : json::value(t.connector)},
      {"response_due_at", time_or_null(t.response_due_at)},
      {"due_at", time_or_null(t.due_at)},
      {"first_response_at", time_or_null(t.first_response_at)},
      {"pending", t.pending_since.has_value()},
      {"pending_since", time_or_null(t.pending_since)},
      {"overdue", t.overdue},
      {"response_overdue", t.response_overdue},
  };
}

json::value to_json(const bundle_info& b) {
  return json::object{
      {"id", b.id},         {"ticket", b.ticket_ref}, {"filename", b.filename},
      {"size", b.size},     {"sha256", b.sha256},     {"created_at", format_rfc3339(b.created_at)},
      {"source", b.source},
  };
}

json::value to_json(const user_info& u) {
  return json::object{
      {"name", u.name},
      {"role", to_string(u.kind)},
      {"disabled", u.disabled},
      {"created_at", format_rfc3339(u.created_at)},
      {"last_sign_in",
       u.last_sign_in ? json::value(format_rfc3339(*u.last_sign_in)) : json::value(nullptr)},
  };
}

json::value to_json(const token_info& t) {
  return json::object{
      {"id", t.id},
      {"name", t.name},
      {"role", to_string(t.kind)},
      {"created_at", format_rfc3339(t.created_at)},
      {"revoked", t.revoked},
  };
}

json::value to_json(const audit_record& r) {
  boost::system::error_code ec;
  json::value detail = json::parse(r.detail, ec);
  if (ec) detail = json::object{{"unparsed", r.detail}};
  return json::object{
      {"seq", r.seq},
      {"time", format_rfc3339(r.time)},
      {"actor", r.actor},
      {"action", r.action},
      {"ticket", r.ticket_ref.empty() ? json::value(nullptr) : json::value(r.ticket_ref)},
      {"detail", std::move(detail)},
      {"hash", r.hash},
  };
}

namespace {

json::value optional_time(const std::optional<unix_time>& t) {
  return t ? json::value(format_rfc3339(*t)) : json::value(nullptr);
}

json::value optional_text(const std::string& s) {
  return s.empty() ? json::value(nullptr) : json::value(s);
}

json::array string_array(const std::vector<std::string>& items) {
  json::array out;
  for (const auto& i : items) out.emplace_back(i);
  return out;
}

}  // namespace

json::value to_json(const link_info& l) {
  return json::object{
      {"id", l.id},
      {"ticket", l.ticket_ref},
      {"created_at", format_rfc3339(l.created_at)},
      {"expires_at", format_rfc3339(l.expires_at)},
      {"max_bytes", l.max_bytes},
      {"used_bytes", l.used_bytes},
      {"revoked", l.revoked},
      {"mode", to_string(l.mode)},
      {"recipients", string_array(l.recipients)},
  };
}

json::value to_json(const agent_info& a) {
  return json::object{
      {"id", a.id},
      {"hostname", a.facts.hostname},
      {"os", a.facts.os},
      {"kernel", a.facts.kernel},
      {"version", a.facts.version},
      {"profiles", string_array(a.facts.profiles)},
      {"max_upload_bytes",
       a.facts.max_upload_bytes ? json::value(*a.facts.max_upload_bytes) : json::value(nullptr)},
      {"last_seen", format_rfc3339(a.last_seen)},
      {"enrolled_at", format_rfc3339(a.enrolled_at)},
      {"cert_expires_at", format_rfc3339(a.cert_expires_at)},
      {"revoked", a.revoked_at.has_value()},
      {"revoked_at", optional_time(a.revoked_at)},
  };
}

json::value to_json(const request_info& r) {
  return json::object{
      {"id", r.id},
      {"ticket", r.ticket_ref},
      {"agent", r.agent_id},
      {"profile", r.profile},
      {"since", optional_time(r.since)},
      {"until", optional_time(r.until)},
      {"recipients", string_array(r.recipients)},
      {"state", to_string(r.state)},
      {"bundle_id", optional_text(r.bundle_id)},
      {"error", optional_text(r.error)},
      {"created_at", format_rfc3339(r.created_at)},
      {"updated_at", format_rfc3339(r.updated_at)},
  };
}

json::value job_json(const request_info& r) {
  return json::object{
      {"id", r.id},
      {"ticket", r.ticket_ref},
      {"profile", r.profile},
      {"since", optional_time(r.since)},
      {"until", optional_time(r.until)},
      {"recipients", string_array(r.recipients)},
  };
}

bool valid_profile_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
      return false;
  return true;
}

std::string age_key_fingerprint(std::string_view key) {
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(key.data()), key.size());
  constexpr auto variant = sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
  std::string out(sodium_base64_encoded_len(digest.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), digest.data(), digest.size(), variant);
  out.resize(std::strlen(out.c_str()));
  return "SHA256:" + out;
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
