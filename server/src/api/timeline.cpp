#include "api/timeline.hpp"

#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include "api/json_views.hpp"
#include "valise/common/progress.hpp"

namespace valise::server {
namespace {

namespace json = boost::json;

std::string text(const json::object& d, const char* key) {
  const auto* v = d.if_contains(key);
  if (!v) return "";
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  if (v->is_uint64()) return std::to_string(v->as_uint64());
  return "";
}

std::string bytes(const json::object& d, const char* key) {
  const auto* v = d.if_contains(key);
  if (v && v->is_int64() && v->as_int64() >= 0)
    return common::human_size(static_cast<std::uint64_t>(v->as_int64()));
  if (v && v->is_uint64()) return common::human_size(v->as_uint64());
  return "?";
}

const json::array& list(const json::object& d, const char* key) {
  static const json::array none;
  const auto* v = d.if_contains(key);
  return v && v->is_array() ? v->as_array() : none;
}

std::string state_words(const std::string& state) {
  std::string out = state;
  for (auto& c : out)
    if (c == '_') c = ' ';
  return out;
}

// The receipt of a purge or deletion: each bundle with its size and SHA-256.
std::string receipt(const json::object& d) {
  std::string out;
  for (const auto& b : list(d, "bundles")) {
    if (!b.is_object()) continue;
    const auto& o = b.as_object();
    out += fmt::format("{} {} ({}, SHA-256 {})", out.empty() ? ":" : ",", text(o, "id"),
                       bytes(o, "size"), text(o, "sha256"));
  }
  return out;
}

std::string sentence(const audit_record& r, const json::object& d) {
  const auto actor = actor_words(r.actor);
  const auto& a = r.action;
  const auto bundles = list(d, "bundles").size();
  const auto uploads = list(d, "uploads").size();
  if (a == "ticket.created")
    return fmt::format("{} opened the ticket ({}).", actor, text(d, "severity"));
  if (a == "ticket.resolved")
    return d.contains("resolution")
               ? fmt::format("{} resolved the ticket: {}", actor, text(d, "resolution"))
               : fmt::format("{} resolved the ticket.", actor);
  if (a == "ticket.reopened") return fmt::format("{} reopened the ticket.", actor);
  if (a == "ticket.pending")
    return fmt::format("{} set the ticket pending: its clock stops until it is resumed.", actor);
  if (a == "ticket.resumed")
    return fmt::format("{} resumed the ticket: its clock runs again.", actor);
  if (a == "ticket.updated")
    return d.contains("title") ? fmt::format("{} renamed the ticket \"{}\" ({}).", actor,
                                             text(d, "title"), text(d, "status"))
           : d.contains("severity")
               ? fmt::format("{} set the severity to {}.", actor, text(d, "severity"))
               : fmt::format("{} now follows the ticket.", actor);
  if (a == "helpdesk.resolution_scheduled") {
    const auto* at = d.if_contains("resolve_at");
    return fmt::format(
        "{} marked the ticket {} ({}): valise resolves it at {} unless it is "
        "reopened.",
        actor, text(d, "event"), text(d, "status"),
        at && at->is_int64() ? format_rfc3339(at->as_int64()) : "?");
  }
  if (a == "helpdesk.resolution_cancelled")
    return fmt::format("{} reopened the ticket ({}) within the grace period: nothing is resolved.",
                       actor, text(d, "status"));
  if (a == "helpdesk.received")
    return fmt::format("{} sent an update ({}): nothing to change.", actor, text(d, "status"));
  if (a == "comment.added") return fmt::format("{} commented: {}", actor, text(d, "text"));
  if (a == "link.created") {
    const auto* e = d.if_contains("expires_at");
    const auto expires = e && e->is_int64() ? format_rfc3339(e->as_int64()) : text(d, "expires_at");
    return fmt::format("{} created upload link {} for {}, valid until {}.", actor, text(d, "id"),
                       bytes(d, "max_bytes"), expires);
  }
  if (a == "link.revoked") return fmt::format("{} revoked upload link {}.", actor, text(d, "id"));
  if (a == "upload.started")
    return fmt::format("{} started uploading {} ({}).", actor, text(d, "filename"),
                       bytes(d, "length"));
  if (a == "upload.completed")
    return fmt::format("{} finished an upload: bundle {}, {}, SHA-256 {}.", actor,
                       text(d, "bundle"), bytes(d, "size"), text(d, "sha256"));
  if (a == "upload.refused")
    return d.contains("reason")
               ? fmt::format("An upload of {} by {} was refused: {}.", text(d, "filename"), actor,
                             text(d, "reason"))
               : fmt::format("An upload of {} by {} was refused.", text(d, "filename"), actor);
  if (a == "upload.terminated")
    return fmt::format("{} cancelled the upload of {}.", actor, text(d, "filename"));
  if (a == "upload.replaced")
    return fmt::format("{} restarted the upload for request {}.", actor, text(d, "request"));
  if (a == "bundle.downloaded")
    return fmt::format("{} downloaded bundle {}.", actor, text(d, "bundle"));
  if (a == "bundle.deleted")
    return fmt::format("{} deleted {} bundle(s){}.", actor, bundles, receipt(d));
  if (a == "purge.resolved")
    return fmt::format("Resolving deleted {} bundle(s) and {} upload(s) in progress{}.", bundles,
                       uploads, receipt(d));
  if (a == "purge.retention")
    return fmt::format("The retention period deleted {} bundle(s){}.", bundles, receipt(d));
  if (a == "purge.expired_upload") return fmt::format("{} expired upload(s) deleted.", uploads);
  if (a == "request.created")
    return fmt::format("{} asked agent {} for the profile {}.", actor, text(d, "agent"),
                       text(d, "profile"));
  if (a == "request.state_changed")
    return text(d, "to") == "failed" && d.contains("error")
               ? fmt::format("Request {} failed: {}.", text(d, "request"), text(d, "error"))
               : fmt::format("Request {}: {} → {}.", text(d, "request"),
                             state_words(text(d, "from")), state_words(text(d, "to")));
  if (a == "outbox.delivered")
    return fmt::format("{} {} delivered to {}.", text(d, "event"), text(d, "id"),
                       text(d, "target"));
  if (a == "outbox.given_up")
    return fmt::format("{} {} could not be delivered to {}: {}.", text(d, "event"), text(d, "id"),
                       text(d, "target"), text(d, "error"));
  if (a == "outbox.retried")
    return fmt::format("{} sent {} {} to {} again.", actor, text(d, "event"), text(d, "id"),
                       text(d, "target"));
  if (a == "outbox.dropped")
    return fmt::format("{} not sent to {}: too many deliveries were waiting.", text(d, "event"),
                       text(d, "target"));
  return fmt::format("{}: {}", actor, a);
}

}  // namespace

bool visible_to(const audit_record& r, role who) {
  if (r.action == "auth.refused" || r.action == "agent.refused" || r.action == "session.refused" ||
      r.action == "hook.refused")
    return false;
  if (r.action.starts_with("token.")) return who == role::admin;
  return true;
}

std::string actor_words(const std::string& label) {
  if (label == "system") return "valise";
  const auto colon = label.find(':');
  if (colon == std::string::npos) return label;
  const auto kind = label.substr(0, colon);
  const auto name = label.substr(colon + 1);
  if (kind == "user") return name;
  if (kind == "technician" || kind == "admin") return "token " + name;
  if (kind == "link") return "upload link " + name;
  if (kind == "agent") return "agent " + name;
  if (kind == "helpdesk") return "helpdesk " + name;
  return label;
}

json::object timeline_event(const audit_record& r) {
  boost::system::error_code ec;
  json::value parsed = json::parse(r.detail, ec);
  json::object details = !ec && parsed.is_object() ? std::move(parsed.as_object())
                                                   : json::object{{"unparsed", r.detail}};
  auto words = sentence(r, details);
  return json::object{
      {"seq", r.seq},     {"at", format_rfc3339(r.time)}, {"kind", r.action},
      {"actor", r.actor}, {"text", std::move(words)},     {"details", std::move(details)},
  };
}

}  // namespace valise::server
