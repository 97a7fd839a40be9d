#include "outbox/standard_webhook.hpp"

#include <sodium.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "valise/common/rfc3339.hpp"

namespace valise::server::outbox {

std::optional<std::string> parse_webhook_secret(std::string_view text) {
  constexpr std::string_view prefix = "whsec_";
  if (!text.starts_with(prefix)) return std::nullopt;
  text.remove_prefix(prefix.size());
  std::string key(text.size(), '\0');
  std::size_t length = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(key.data()), key.size(), text.data(),
                        text.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      length < 16)
    return std::nullopt;
  key.resize(length);
  return key;
}

std::string webhook_signature(std::string_view key, std::string_view id, std::int64_t timestamp,
                              std::string_view body) {
  const std::string stamp = std::to_string(timestamp);
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  auto add = [&](std::string_view part) {
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(part.data()),
                                  part.size());
  };
  add(id);
  add(".");
  add(stamp);
  add(".");
  add(body);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, mac);
  sodium_memzero(&state, sizeof state);
  char encoded[sodium_base64_ENCODED_LEN(sizeof mac, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(encoded, sizeof encoded, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
  return std::string("v1,") + encoded;
}

std::string webhook_body(const outbox_entry& entry) {
  boost::system::error_code ec;
  auto data = boost::json::parse(entry.payload, ec);
  if (ec || !data.is_object()) data = boost::json::object{};
  return boost::json::serialize(
      boost::json::object{{"type", entry.event},
                          {"timestamp", common::format_rfc3339(entry.created_at)},
                          {"data", std::move(data)}});
}

bool webhook_target::wants(std::string_view event) const {
  return s_.events.empty() ||
         std::find(s_.events.begin(), s_.events.end(), event) != s_.events.end();
}

boost::system::result<outbound_request, std::string> webhook_target::render(
    const outbox_entry& entry, unix_time now, const std::string& /*session*/) const {
  outbound_request out;
  out.url = s_.url;
  out.body = webhook_body(entry);
  out.headers = {{"Content-Type", "application/json"},
                 {"webhook-id", entry.id},
                 {"webhook-timestamp", std::to_string(now)},
                 {"webhook-signature", webhook_signature(s_.key, entry.id, now, out.body)}};
  return out;
}

}  // namespace valise::server::outbox
