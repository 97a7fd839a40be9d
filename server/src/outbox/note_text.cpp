#include "outbox/note_text.hpp"

#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "valise/common/progress.hpp"
#include "valise/common/rfc3339.hpp"

namespace valise::server::outbox {
namespace {

namespace json = boost::json;
using result = boost::system::result<std::string, std::string>;

std::string text(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string("?");
}

std::uint64_t count(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v && v->is_uint64()) return v->as_uint64();
  if (v && v->is_int64() && v->as_int64() >= 0) return static_cast<std::uint64_t>(v->as_int64());
  return 0;
}

std::string when(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_int64() ? common::format_rfc3339(v->as_int64()) : std::string("?");
}

// Exact and readable: "12.3 MiB (12893184 bytes)".
std::string size(std::uint64_t bytes) {
  return bytes < 1024 ? fmt::format("{} bytes", bytes)
                      : fmt::format("{} ({} bytes)", common::human_size(bytes), bytes);
}

std::string bundle_arrived(const json::object& d) {
  std::string note = "valise: a bundle arrived for this ticket.\n";
  note += fmt::format("File: {}, {}\n", text(d, "filename"), size(count(d, "size")));
  note += fmt::format("SHA-256: {}\n", text(d, "sha256"));
  note += fmt::format("From: {}", text(d, "uploader"));
  if (d.contains("request")) note += fmt::format(" (request {})", text(d, "request"));
  note += fmt::format("\nFetch it: valise bundle get {}\n", text(d, "bundle"));
  return note;
}

std::string request_failed(const json::object& d) {
  return fmt::format("valise: the request {} to agent {} (profile {}) failed: {}\n",
                     text(d, "request"), text(d, "agent"), text(d, "profile"), text(d, "reason"));
}

std::string_view cause(const std::string& action) {
  if (action == "purge.resolved") return "the ticket was resolved";
  if (action == "purge.retention") return "the retention period ended";
  if (action == "bundle.deleted") return "a technician deleted it";
  if (action == "purge.expired_upload") return "the upload was left unfinished too long";
  return "purged";
}

std::string purge_receipt(const json::object& d) {
  const auto* bundles = d.if_contains("bundles");
  const auto* uploads = d.if_contains("uploads");
  const std::size_t n = bundles && bundles->is_array() ? bundles->as_array().size() : 0;
  std::string note = fmt::format("valise: purge receipt. {} bundle{} destroyed at {} ({}).\n", n,
                                 n == 1 ? "" : "s", when(d, "purged_at"), cause(text(d, "cause")));
  if (bundles && bundles->is_array())
    for (const auto& b : bundles->as_array())
      if (b.is_object())
        note += fmt::format("- {}, {}, SHA-256 {}\n", text(b.as_object(), "id"),
                            size(count(b.as_object(), "size")), text(b.as_object(), "sha256"));
  if (uploads && uploads->is_array())
    for (const auto& u : uploads->as_array())
      if (u.is_object())
        note += fmt::format("- unfinished upload {} discarded at byte {}\n",
                            text(u.as_object(), "id"), count(u.as_object(), "offset"));
  note += "Nothing of it is left on the collector.\n";
  return note;
}

}  // namespace

result note_text(const outbox_entry& entry) {
  boost::system::error_code ec;
  auto payload = json::parse(entry.payload, ec);
  if (ec || !payload.is_object())
    return result{boost::system::in_place_error,
                  fmt::format("the {} event's data is not a JSON object", entry.event)};
  const auto& d = payload.as_object();
  if (entry.event == "bundle.arrived")
    return result{boost::system::in_place_value, bundle_arrived(d)};
  if (entry.event == "request.failed")
    return result{boost::system::in_place_value, request_failed(d)};
  if (entry.event == "bundles.purged")
    return result{boost::system::in_place_value, purge_receipt(d)};
  return result{boost::system::in_place_error,
                fmt::format("no note is written for {} events", entry.event)};
}

}  // namespace valise::server::outbox
