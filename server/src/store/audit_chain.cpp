#include "store/audit_chain.hpp"

#include <sodium.h>

#include <charconv>
#include <cstdint>

#include "store/secrets.hpp"

namespace valise::server {
namespace {

void put_field(std::string& out, std::string_view field) {
  std::uint64_t n = field.size();
  for (int i = 7; i >= 0; --i) out += static_cast<char>((n >> (8 * i)) & 0xff);
  out += field;
}

std::string record_message(std::string_view version, const std::string& previous_hash,
                           const audit_record& record) {
  std::string message(version);
  put_field(message, previous_hash);
  put_field(message, std::to_string(record.seq));
  put_field(message, std::to_string(record.time));
  put_field(message, record.actor);
  put_field(message, record.action);
  put_field(message, record.ticket_ref);
  put_field(message, record.detail);
  return message;
}

std::string hmac_raw(const audit_key& key, std::string_view message) {
  std::string out(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.bytes.data(), key.bytes.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(out.data()));
  sodium_memzero(&state, sizeof state);
  return out;
}

std::string checkpoint_message(std::int64_t records, const std::string& head, unix_time time) {
  std::string message = "valise audit checkpoint v1";
  put_field(message, std::to_string(records));
  put_field(message, head);
  put_field(message, std::to_string(time));
  return message;
}

bool is_hex(std::string_view s, std::size_t length) {
  return s.size() == length && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

template <class T>
std::optional<T> parse_number(std::string_view s) {
  T value{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// "name=value" at the front of `rest`, up to `separator`; advances `rest`.
std::optional<std::string_view> take(std::string_view& rest, std::string_view name,
                                     char separator) {
  if (rest.substr(0, name.size()) != name || rest.substr(name.size(), 1) != "=")
    return std::nullopt;
  rest.remove_prefix(name.size() + 1);
  auto end = rest.find(separator);
  auto value = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
  return value;
}

}  // namespace

audit_key::~audit_key() {
  sodium_memzero(bytes.data(), bytes.size());
}

std::string audit_hash_v1(const std::string& previous_hash, const audit_record& record) {
  return to_hex(sha256_raw(record_message("valise audit v1", previous_hash, record)));
}

std::string audit_hash(const audit_key& key, const std::string& previous_hash,
                       const audit_record& record) {
  if (record.seq < key.keyed_from) return audit_hash_v1(previous_hash, record);
  return to_hex(hmac_raw(key, record_message("valise audit v2", previous_hash, record)));
}

std::string audit_key_id(const audit_key& key) {
  return to_hex(hmac_raw(key, "valise audit key id").substr(0, 8));
}

audit_checkpoint sign_checkpoint(const audit_key& key, std::int64_t records, std::string head,
                                 unix_time time) {
  audit_checkpoint c{records, std::move(head), time, audit_key_id(key), {}};
  c.mac = to_hex(hmac_raw(key, checkpoint_message(c.records, c.head, c.time)));
  return c;
}

bool checkpoint_authentic(const audit_key& key, const audit_checkpoint& checkpoint) {
  const auto expected = to_hex(
      hmac_raw(key, checkpoint_message(checkpoint.records, checkpoint.head, checkpoint.time)));
  return checkpoint.mac.size() == expected.size() &&
         sodium_memcmp(checkpoint.mac.data(), expected.data(), expected.size()) == 0;
}

std::string format_checkpoint(const audit_checkpoint& c) {
  return std::string(checkpoint_marker) + "records=" + std::to_string(c.records) +
         " head=" + c.head + " time=" + std::to_string(c.time) + " key=" + c.key_id +
         " mac=" + c.mac;
}

std::optional<audit_checkpoint> parse_checkpoint(std::string_view line) {
  auto at = line.find(checkpoint_marker);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = line.substr(at + checkpoint_marker.size());
  rest = rest.substr(0, rest.find_first_of("\r\n"));  // a file's line end
  auto records = take(rest, "records", ' ');
  auto head = take(rest, "head", ' ');
  auto time = take(rest, "time", ' ');
  auto key = take(rest, "key", ' ');
  auto mac = take(rest, "mac", ' ');
  if (!records || !head || !time || !key || !mac) return std::nullopt;
  auto count = parse_number<std::int64_t>(*records);
  auto when = parse_number<unix_time>(*time);
  if (!count || *count < 0 || !when || !is_hex(*head, 64) || !is_hex(*key, 16) || !is_hex(*mac, 64))
    return std::nullopt;
  return audit_checkpoint{*count, std::string(*head), *when, std::string(*key), std::string(*mac)};
}

std::string format_audit_key(const audit_key& key) {
  std::string raw(key.bytes.begin(), key.bytes.end());
  std::string text = "valise-audit-key v1\nkeyed_from=" + std::to_string(key.keyed_from) +
                     "\nkey=" + to_hex(raw) + "\n";
  sodium_memzero(raw.data(), raw.size());
  return text;
}

std::optional<audit_key> parse_audit_key(std::string_view text) {
  constexpr std::string_view header = "valise-audit-key v1\n";
  if (text.substr(0, header.size()) != header) return std::nullopt;
  text.remove_prefix(header.size());
  auto from = take(text, "keyed_from", '\n');
  auto hex = take(text, "key", '\n');
  if (!from || !hex || !text.empty() || !is_hex(*hex, 64)) return std::nullopt;
  auto keyed_from = parse_number<std::int64_t>(*from);
  if (!keyed_from || *keyed_from < 1) return std::nullopt;
  audit_key key;
  key.keyed_from = *keyed_from;
  std::size_t written = 0;
  if (sodium_hex2bin(key.bytes.data(), key.bytes.size(), hex->data(), hex->size(), nullptr,
                     &written, nullptr) != 0 ||
      written != key.bytes.size())
    return std::nullopt;
  return key;
}

}  // namespace valise::server
