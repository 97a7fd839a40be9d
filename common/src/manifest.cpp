#include "valise/common/manifest.hpp"

#include <openssl/rand.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "utf8_names.hpp"
#include "valise/common/bundle.hpp"

namespace valise::common {
namespace json = boost::json;

namespace {

json::value optional_string(const std::optional<std::string>& s) {
  return s ? json::value(*s) : json::value(nullptr);
}

// Field readers that fail on a wrong type instead of throwing.
struct reader {
  const json::object& object;
  bool ok = true;

  std::string string(std::string_view key) {
    const auto* v = object.if_contains(key);
    if (!v || !v->is_string()) return ok = false, std::string();
    return std::string(v->get_string());
  }
  std::optional<std::string> optional_string(std::string_view key) {
    const auto* v = object.if_contains(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_string()) return ok = false, std::nullopt;
    return std::string(v->get_string());
  }
  std::uint64_t number(std::string_view key) {
    const auto* v = object.if_contains(key);
    if (v && v->is_uint64()) return v->get_uint64();
    if (v && v->is_int64() && v->get_int64() >= 0)
      return static_cast<std::uint64_t>(v->get_int64());
    return ok = false, 0;
  }
  // Absent in bundles from before it existed: empty then.
  std::map<std::string, std::uint64_t> counts(std::string_view key) {
    std::map<std::string, std::uint64_t> out;
    const auto* v = object.if_contains(key);
    if (!v) return out;
    if (!v->is_object()) return ok = false, out;
    for (const auto& [name, count] : v->get_object()) {
      if (count.is_uint64()) {
        out[std::string(name)] = count.get_uint64();
      } else if (count.is_int64() && count.get_int64() >= 0) {
        out[std::string(name)] = static_cast<std::uint64_t>(count.get_int64());
      } else {
        ok = false;
      }
    }
    return out;
  }
  std::vector<std::string> strings(std::string_view key) {
    std::vector<std::string> out;
    const auto* v = object.if_contains(key);
    if (!v) return out;
    if (!v->is_array()) return ok = false, out;
    for (const auto& s : v->get_array()) {
      if (!s.is_string()) return ok = false, out;
      out.emplace_back(s.get_string());
    }
    return out;
  }
  bool boolean(std::string_view key) {
    const auto* v = object.if_contains(key);
    if (!v || !v->is_bool()) return ok = false, false;
    return v->get_bool();
  }
};

bool is_sha256_hex_or_empty(std::string_view text) {
  if (text.empty()) return true;
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == text.npos;
}

}  // namespace

std::string to_json(const manifest& m) {
  // JSON is UTF-8; names and paths from the machine are bytes (see utf8_names.hpp).
  const auto text = [](std::string_view s) { return detail::utf8_or_escaped(s); };
  json::array items;
  for (const auto& item : m.items) {
    json::object by_rule;
    for (const auto& [rule, count] : item.redactions_by_rule) by_rule[text(rule)] = count;
    items.push_back(json::object{{"path", text(item.path)},
                                 {"source", text(item.source)},
                                 {"size", item.size},
                                 {"sha256", item.sha256},
                                 {"error", text(item.error)},
                                 {"truncated", item.truncated},
                                 {"redactions", item.redactions},
                                 {"redactions_by_rule", std::move(by_rule)}});
  }
  json::array notes;
  for (const auto& note : m.notes) notes.push_back(json::value(text(note)));
  const json::object root{{"format", m.format},
                          {"bundle_id", m.bundle_id},
                          {"ticket", text(m.ticket)},
                          {"host", text(m.host)},
                          {"profile", text(m.profile)},
                          {"created_at", m.created_at},
                          {"since", optional_string(m.since)},
                          {"until", optional_string(m.until)},
                          {"redactions", m.redactions},
                          {"items", std::move(items)},
                          {"notes", std::move(notes)}};
  return json::serialize(root);
}

result<manifest> parse_manifest(std::string_view text) {
  const auto invalid = make_error_code(bundle_errc::manifest_invalid);
  std::error_code ec;
  const json::value root = json::parse(text, ec);
  if (ec || !root.is_object()) return invalid;
  reader r{root.get_object()};
  manifest m;
  const std::uint64_t format = r.number("format");
  m.bundle_id = r.string("bundle_id");
  m.ticket = r.string("ticket");
  m.host = r.string("host");
  m.profile = r.string("profile");
  m.created_at = r.string("created_at");
  m.since = r.optional_string("since");
  m.until = r.optional_string("until");
  m.redactions = r.number("redactions");
  m.notes = r.strings("notes");
  const auto* items = root.get_object().if_contains("items");
  if (!r.ok || !items || !items->is_array() ||
      format != static_cast<std::uint64_t>(manifest_format_version)) {
    return invalid;
  }
  for (const auto& v : items->get_array()) {
    if (!v.is_object()) return invalid;
    reader ir{v.get_object()};
    manifest_item item;
    item.path = ir.string("path");
    item.source = ir.string("source");
    item.size = ir.number("size");
    item.sha256 = ir.string("sha256");
    item.error = ir.string("error");
    item.truncated = ir.boolean("truncated");
    item.redactions = ir.number("redactions");
    item.redactions_by_rule = ir.counts("redactions_by_rule");
    // The reader compares hashes as text: only the form to_json writes.
    if (!ir.ok || item.path.empty() || !is_sha256_hex_or_empty(item.sha256)) return invalid;
    m.items.push_back(std::move(item));
  }
  return m;
}

std::string local_host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "unknown";
  return name;
}

std::string new_bundle_id() {
  std::uint8_t b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("no randomness available");
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char text[37];
  std::snprintf(text, sizeof text,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return text;
}

}  // namespace valise::common
