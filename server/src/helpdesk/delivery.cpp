#include "helpdesk/delivery.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <charconv>

#include "valise/common/ascii.hpp"
#include "valise/common/rfc3339.hpp"

namespace valise::server::helpdesk {
namespace {

constexpr std::size_t max_delivery_id = 128;
constexpr std::size_t max_title = 500;
constexpr std::size_t max_status = 100;

const std::string* header(const header_map& headers, std::string_view name) {
  auto it = headers.find(common::ascii_lower(name));
  return it == headers.end() ? nullptr : &it->second;
}

std::string hex(std::string_view raw) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char ch : raw) {
    out += digits[ch >> 4];
    out += digits[ch & 15];
  }
  return out;
}

std::optional<std::string> unhex(std::string_view text) {
  if (text.size() % 2) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + i + 2, value, 16);
    if (ec != std::errc{} || end != text.data() + i + 2) return std::nullopt;
    out += static_cast<char>(value);
  }
  return out;
}

std::string base64(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(raw.data()),
                                static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  if (text.empty() || text.size() % 4 || text.size() > 256) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  out.resize(static_cast<std::size_t>(n));
  // EVP_DecodeBlock counts the padding as zero bytes.
  for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) out.pop_back();
  return out;
}

std::string sha256(std::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<const char*>(out), sizeof out);
}

std::string mac(std::string_view data, const connector& c) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(c.algorithm == digest::sha256 ? EVP_sha256() : EVP_sha1(), c.secret.data(),
       static_cast<int>(c.secret.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), out, &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string signed_text(std::string_view body, std::string_view timestamp, const connector& c) {
  std::string out;
  std::string_view pattern = c.signed_payload;
  while (!pattern.empty()) {
    if (pattern.starts_with("{body}")) {
      out += body;
      pattern.remove_prefix(6);
    } else if (pattern.starts_with("{timestamp}")) {
      out += timestamp;
      pattern.remove_prefix(11);
    } else {
      out += pattern.front();
      pattern.remove_prefix(1);
    }
  }
  return out;
}

bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Unix seconds ("1733580000") or RFC 3339 ("2026-12-07T14:00:00Z").
std::optional<unix_time> parse_timestamp(std::string_view text) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos) {
    unix_time t = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), t);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return t;
  }
  return common::parse_rfc3339(text);
}

std::string duration_words(std::chrono::seconds d) {
  const auto s = d.count();
  if (s % 3600 == 0) return fmt::format("{}h", s / 3600);
  if (s % 60 == 0) return fmt::format("{}m", s / 60);
  return fmt::format("{}s", s);
}

bool printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char ch) { return ch > 0x20 && ch < 0x7f; });
}

std::string bounded_id(std::string_view id) {
  if (id.size() <= max_delivery_id && printable(id)) return std::string(id);
  return "sha256:" + hex(sha256(id));
}

bool listed(const std::vector<std::string>& values, std::string_view value) {
  const auto wanted = common::ascii_lower(value);
  return std::any_of(values.begin(), values.end(),
                     [&](const std::string& v) { return common::ascii_lower(v) == wanted; });
}

// At most `limit` bytes, not cutting a UTF-8 sequence.
std::string cut(std::string text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text;
}

}  // namespace

std::string sign(std::string_view body, std::string_view timestamp, const connector& c) {
  const auto raw = mac(signed_text(body, timestamp, c), c);
  return c.signature_prefix + (c.signature_encoding == encoding::hex ? hex(raw) : base64(raw));
}

std::variant<accepted, refused> verify_delivery(const header_map& headers, std::string_view body,
                                                unix_time now, const connector& c) {
  using why = refused::why;
  const auto* presented = header(headers, c.signature_header);
  if (!presented)
    return refused{why::missing, fmt::format("the delivery has no {} header", c.signature_header)};
  std::string_view value = *presented;
  const std::string* timestamp_text = nullptr;
  if (!c.timestamp_header.empty()) {
    timestamp_text = header(headers, c.timestamp_header);
    if (!timestamp_text)
      return refused{why::missing,
                     fmt::format("the delivery has no {} header", c.timestamp_header)};
  }
  accepted out;
  if (c.verify == check::token) {
    // Both hashed first, so that the comparison takes as long whatever the
    // length of what was sent.
    if (value.starts_with(c.signature_prefix)) value.remove_prefix(c.signature_prefix.size());
    if (!same(sha256(value), sha256(c.secret)))
      return refused{
          why::bad_signature,
          fmt::format("the {} header does not hold the connector's token", c.signature_header)};
  } else {
    if (!value.starts_with(c.signature_prefix))
      return refused{why::bad_signature, fmt::format("the {} header does not start with \"{}\"",
                                                     c.signature_header, c.signature_prefix)};
    value.remove_prefix(c.signature_prefix.size());
    auto raw = c.signature_encoding == encoding::hex ? unhex(value) : unbase64(value);
    const auto expected =
        mac(signed_text(body, timestamp_text ? *timestamp_text : std::string_view(), c), c);
    if (!raw || !same(*raw, expected))
      return refused{why::bad_signature,
                     "the signature does not match the delivery: check that the connector's "
                     "secret is the helpdesk's"};
    out.content_id = "signature:" + hex(expected);
  }
  if (timestamp_text) {
    auto t = parse_timestamp(*timestamp_text);
    if (!t)
      return refused{why::bad_timestamp,
                     fmt::format("the {} header is neither Unix seconds nor an RFC 3339 date",
                                 c.timestamp_header)};
    const auto window = c.timestamp_window.count();
    if (*t < now - window)
      return refused{why::stale,
                     fmt::format("the delivery is older than the connector's timestamp window "
                                 "({}): a replay, or the helpdesk's clock is wrong",
                                 duration_words(c.timestamp_window))};
    if (*t > now + window)
      return refused{why::stale,
                     fmt::format("the delivery's timestamp is more than {} ahead of the "
                                 "server's clock: check both clocks",
                                 duration_words(c.timestamp_window))};
    out.timestamp = *t;
  }
  if (!c.delivery_id_header.empty()) {
    const auto* id = header(headers, c.delivery_id_header);
    if (!id || id->empty())
      return refused{why::missing,
                     fmt::format("the delivery has no {} header", c.delivery_id_header)};
    out.delivery_id = bounded_id(*id);
  } else if (!c.delivery_id_pointer.empty()) {
    boost::system::error_code ec;
    auto parsed = boost::json::parse(body, ec);
    auto id = ec ? std::nullopt : text_at(parsed, c.delivery_id_pointer);
    if (!id || id->empty())
      return refused{why::missing,
                     fmt::format("the delivery has no id at {}", c.delivery_id_pointer)};
    out.delivery_id = bounded_id(*id);
  }
  // A token proves nothing about the body: its hash stands for the content.
  if (out.content_id.empty()) out.content_id = "body:" + hex(sha256(body));
  if (out.delivery_id.empty()) out.delivery_id = out.content_id;
  return out;
}

std::string_view to_string(ticket_event e) {
  switch (e) {
    case ticket_event::updated:
      return "updated";
    case ticket_event::solved:
      return "solved";
    case ticket_event::closed:
      return "closed";
    case ticket_event::reopened:
      return "reopened";
  }
  return "updated";
}

std::optional<std::string> text_at(const boost::json::value& body, std::string_view pointer) {
  boost::system::error_code ec;
  const auto* v = body.find_pointer(pointer, ec);
  if (!v) return std::nullopt;
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_int64()) return std::to_string(v->as_int64());
  if (v->is_uint64()) return std::to_string(v->as_uint64());
  return std::nullopt;
}

boost::system::result<ticket_news, std::string> read_ticket(const boost::json::value& body,
                                                            const connector& c) {
  using result = boost::system::result<ticket_news, std::string>;
  ticket_news out;
  auto id = text_at(body, c.ticket_id_pointer);
  if (!id || id->empty())
    return result{boost::system::in_place_error,
                  fmt::format("ticket id not found at {}", c.ticket_id_pointer)};
  out.id = *id;
  auto status = text_at(body, c.status_pointer);
  if (!status)
    return result{boost::system::in_place_error,
                  fmt::format("ticket status not found at {}", c.status_pointer)};
  out.status = *status;
  auto title = c.title_pointer.empty() ? std::nullopt : text_at(body, c.title_pointer);
  out.title = title && !title->empty() ? cut(*title, max_title)
                                       : fmt::format("{} ticket {}", c.name, out.id);
  out.level = c.default_severity;
  if (!c.priority_pointer.empty())
    if (auto priority = text_at(body, c.priority_pointer)) {
      out.priority = *priority;
      const auto wanted = common::ascii_lower(*priority);
      for (const auto& [value, level] : c.priorities)
        if (common::ascii_lower(value) == wanted) out.level = level;
    }
  out.event = listed(c.solved_statuses, out.status)     ? ticket_event::solved
              : listed(c.closed_statuses, out.status)   ? ticket_event::closed
              : listed(c.reopened_statuses, out.status) ? ticket_event::reopened
                                                        : ticket_event::updated;
  // Kept in the audit trail: as long as a status can sensibly be.
  out.status = cut(std::move(out.status), max_status);
  out.priority = cut(std::move(out.priority), max_status);
  return out;
}

}  // namespace valise::server::helpdesk
