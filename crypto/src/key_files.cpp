// Identity and recipients files as age-keygen writes and age reads them: one
// key per line, '#' comments and blank lines ignored, LF or CRLF endings.
#include <chrono>
#include <ctime>

#include "valise/crypto/age.hpp"

namespace valise::crypto {
namespace {

// Calls `parse_line` on each line that is neither blank nor a comment;
// fails with `bad` on the first line it rejects or if there is none.
template <class Parse>
result<void> for_each_key_line(std::string_view text, errc bad, Parse parse_line) {
  bool any = false;
  while (!text.empty()) {
    const auto lf = text.find('\n');
    auto line = text.substr(0, lf);
    text = lf == std::string_view::npos ? std::string_view() : text.substr(lf + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty() || line.starts_with('#')) continue;
    if (!parse_line(line)) return make_error_code(bad);
    any = true;
  }
  if (!any) return make_error_code(bad);
  return {};
}

}  // namespace

result<std::vector<x25519_identity>> parse_identity_file(std::string_view text) {
  std::vector<x25519_identity> ids;
  auto parsed = for_each_key_line(text, errc::invalid_identity, [&](std::string_view line) {
    auto id = x25519_identity::parse(line);
    if (id) ids.push_back(std::move(*id));
    return id.has_value();
  });
  if (!parsed) return parsed.error();
  return ids;
}

result<std::vector<x25519_recipient>> parse_recipients_file(std::string_view text) {
  std::vector<x25519_recipient> recipients;
  auto parsed = for_each_key_line(text, errc::invalid_recipient, [&](std::string_view line) {
    auto r = x25519_recipient::parse(line);
    if (r) recipients.push_back(*r);
    return r.has_value();
  });
  if (!parsed) return parsed.error();
  return recipients;
}

std::string format_identity_file(const x25519_identity& id) {
  // age-keygen's three lines; the creation time in RFC 3339, UTC.
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char created[sizeof "YYYY-MM-DDTHH:MM:SSZ"];
  std::strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &utc);
  const std::string recipient = id.to_recipient().to_string();
  std::string secret = id.to_string();
  std::string text;
  // Sized up front so that no reallocation leaves a copy of the key behind.
  text.reserve(64 + recipient.size() + secret.size());
  text += "# created: ";
  text += created;
  text += "\n# public key: ";
  text += recipient;
  text += '\n';
  text += secret;
  text += '\n';
  secure_zero(secret.data(), secret.size());
  return text;
}

}  // namespace valise::crypto
